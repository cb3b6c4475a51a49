import itertools

import numpy as np
from mercator.clv.churn import TIERS, ChurnTiers, churn_tier, roc_auc


def brute_force_auc(scores, labels):
    pairs = [(p, n) for p, n in itertools.product(scores[labels], scores[~labels])]
    return np.mean([1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs])


def test_auc_equals_pair_count_with_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, 300).astype(float)
    labels = rng.random(300) < 0.3 + scores / 10
    assert roc_auc(scores, labels) == brute_force_auc(scores, labels)
    assert roc_auc(scores, np.ones(300, bool)) != roc_auc(scores, np.ones(300, bool))


def test_tiers_follow_the_rank_of_risk_and_their_shares():
    risk = np.random.default_rng(1).random(1000)
    tiers = churn_tier(risk, ChurnTiers(severe_share=0.2, moderate_share=0.3))
    severity = np.array([TIERS.index(tier) for tier in tiers])
    assert (np.diff(severity[np.argsort(risk)]) >= 0).all()
    assert [int((tiers == t).sum()) for t in TIERS] == [500, 300, 200]


def test_equal_risks_share_a_tier():
    risk = np.array([0.9, 0.5, 0.5, 0.8, *[0.1] * 6])
    tiers = churn_tier(risk, ChurnTiers(severe_share=0.2, moderate_share=0.3))
    assert tiers.tolist() == ["severe", "moderate", "moderate", "severe", *["light"] * 6]

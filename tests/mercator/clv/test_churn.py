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


def test_tiers_monotone_in_p_alive():
    p_alive = np.linspace(0, 1, 101)
    tiers = churn_tier(p_alive, ChurnTiers(severe_below=0.2, moderate_below=0.6))
    severity = np.array([TIERS.index(tier) for tier in tiers])
    assert (np.diff(severity) <= 0).all()
    assert set(tiers) == set(TIERS)
    assert tiers[p_alive < 0.2].tolist() == ["severe"] * 20

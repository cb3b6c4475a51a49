"""The sufficient-statistics lifts against independent computations on the per-member arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from mercator.experiments import GroupStats, conversion_lift, cuped_theta, revenue_per_member_lift
from scipy import stats

from tests.mercator.experiments.campaigns import Campaign, simulate_campaign


def correlated_campaign(rng: np.random.Generator, members: int) -> Campaign:
    """Gaussian-ish revenue strongly predicted by the pre-period (theta far from 0), half held out."""
    pre = rng.gamma(2.0, 20.0, members)
    held_out = rng.random(members) < 0.5
    revenue = np.maximum(0.8 * pre + rng.normal(5.0, 15.0, members) + 3.0 * ~held_out, 0.0)
    return Campaign(held_out, revenue > 30, revenue, pre)


DATASETS = {
    "campaign-5k": lambda: simulate_campaign(np.random.default_rng(1), 5_000, 0.1, 0.3, 0.1),
    "campaign-800": lambda: simulate_campaign(np.random.default_rng(2), 800, 0.2, 0.0, 0.0),
    "campaign-20k": lambda: simulate_campaign(np.random.default_rng(3), 20_000, 0.05, -0.2, 0.0),
    "correlated-3k": lambda: correlated_campaign(np.random.default_rng(4), 3_000),
    "correlated-60": lambda: correlated_campaign(np.random.default_rng(5), 60),
}
ALPHAS = (0.05, 0.1)


def wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def newcombe_and_score_test(treated: np.ndarray, control: np.ndarray, alpha: float):
    """Newcombe's hybrid score interval from two Wilson intervals; pooled z test with the N/(N-1) correction."""
    z = stats.norm.ppf(1 - alpha / 2)
    x1, n1, x2, n2 = int(treated.sum()), len(treated), int(control.sum()), len(control)
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = wilson(x1, n1, z), wilson(x2, n2, z)
    low = p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2) * (n1 + n2) / (n1 + n2 - 1)
    p_value = 2 * stats.norm.sf(abs(p1 - p2) / math.sqrt(variance))
    return p1 - p2, low, high, p_value


def assert_same_lift(lift, estimate, low, high, p_value) -> None:
    got = (lift.estimate, lift.low, lift.high, lift.p_value)
    assert got == pytest.approx((estimate, low, high, p_value), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("name", DATASETS)
def test_conversion_lift_equals_newcombe_and_the_score_test_on_the_members(name, alpha):
    campaign = DATASETS[name]()
    treatment, holdout = campaign.groups()
    expected = newcombe_and_score_test(
        campaign.converted[~campaign.held_out], campaign.converted[campaign.held_out], alpha
    )
    assert_same_lift(conversion_lift(treatment, holdout, alpha), *expected)


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("name", DATASETS)
def test_revenue_lift_equals_welch_on_the_members(name, alpha):
    campaign = DATASETS[name]()
    treatment, holdout = campaign.groups()
    y = campaign.revenue
    welch = stats.ttest_ind(y[~campaign.held_out], y[campaign.held_out], equal_var=False)
    interval = welch.confidence_interval(1 - alpha)
    estimate = y[~campaign.held_out].mean() - y[campaign.held_out].mean()
    assert_same_lift(revenue_per_member_lift(treatment, holdout, alpha), estimate, *interval, welch.pvalue)


@pytest.mark.parametrize("name", DATASETS)
def test_cuped_lift_is_the_ols_treatment_effect_and_welch_on_the_adjusted_members(name):
    """OLS of Y on treatment and centred X: its X slope is theta, its treatment coefficient the CUPED lift."""
    campaign = DATASETS[name]()
    treatment, holdout = campaign.groups(cuped=True)
    x, y, treated = campaign.pre_revenue, campaign.revenue, ~campaign.held_out
    design = np.column_stack([np.ones_like(y), treated.astype(float), x - x.mean()])
    ols = sm.OLS(y, design).fit()
    assert cuped_theta(treatment, holdout) == pytest.approx(ols.params[2], rel=1e-9, abs=1e-12)
    adjusted = y - ols.params[2] * (x - x.mean())
    welch = stats.ttest_ind(adjusted[treated], adjusted[~treated], equal_var=False)
    lift = revenue_per_member_lift(treatment, holdout, cuped=True)
    assert_same_lift(lift, ols.params[1], *welch.confidence_interval(0.95), welch.pvalue)


def test_cuped_needs_the_pre_period_sums():
    treatment, holdout = DATASETS["campaign-800"]().groups()
    with pytest.raises(ValueError, match="pre-period"):
        revenue_per_member_lift(treatment, holdout, cuped=True)


def test_cuped_without_pre_period_variation_is_the_plain_welch_lift():
    plain = GroupStats(100, 10, 500.0, 40_000.0)
    treatment = GroupStats(100, 10, 500.0, 40_000.0, 0.0, 0.0, 0.0)
    holdout = GroupStats(50, 3, 100.0, 9_000.0, 0.0, 0.0, 0.0)
    assert cuped_theta(treatment, holdout) == 0.0
    assert revenue_per_member_lift(treatment, holdout, cuped=True) == revenue_per_member_lift(
        plain, GroupStats(50, 3, 100.0, 9_000.0)
    )


@pytest.mark.parametrize(
    ("treatment", "holdout", "reason"),
    [
        (GroupStats(10, 2, 20.0, 80.0), GroupStats(0, 0, 0.0, 0.0), "no members"),
        (GroupStats(100, 0, 0.0, 0.0), GroupStats(10, 0, 0.0, 0.0), "no member converted"),
        (GroupStats(3, 3, 30.0, 300.0), GroupStats(2, 2, 20.0, 200.0), "every member converted"),
    ],
)
def test_conversion_lift_without_a_p_value_says_why(treatment, holdout, reason):
    lift = conversion_lift(treatment, holdout)
    assert lift.p_value is None and reason in lift.reason
    if holdout.members:
        assert math.isfinite(lift.estimate) and lift.low <= lift.estimate <= lift.high


@pytest.mark.parametrize(
    ("treatment", "holdout", "reason"),
    [
        (GroupStats(1, 1, 20.0, 400.0), GroupStats(1, 0, 0.0, 0.0), "fewer than 2 members"),
        (GroupStats(100, 0, 0.0, 0.0), GroupStats(10, 0, 0.0, 0.0), "does not vary"),
        (GroupStats(5, 5, 50.0, 500.0), GroupStats(5, 5, 40.0, 320.0), "does not vary"),
    ],
)
def test_revenue_lift_without_an_interval_says_why(treatment, holdout, reason):
    lift = revenue_per_member_lift(treatment, holdout)
    assert lift.low is None and lift.high is None and lift.p_value is None and reason in lift.reason


@pytest.mark.parametrize(
    "fields",
    [(5, 6, 1.0, 1.0), (5, -1, 1.0, 1.0), (5, 1, 1.0, -1.0), (5, 1, 1.0, 1.0, 2.0, None, None)],
)
def test_impossible_sums_are_refused(fields):
    with pytest.raises(ValueError):
        GroupStats(*fields)

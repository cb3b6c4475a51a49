"""Campaign results: the sample-ratio check, verdict precedence, incremental revenue and ROI, edge cases."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from mercator.experiments import CampaignResult, GroupStats, VerdictRules, campaign_result, sample_ratio_mismatch
from scipy import stats

from tests.mercator.experiments.campaigns import simulate_campaign

FLOAT_FIELDS = [f.name for f in dataclasses.fields(CampaignResult) if "float" in str(f.type)]


def big_campaign(seed: int, conversion_uplift: float, holdout_share: float = 0.2) -> tuple[GroupStats, GroupStats]:
    return simulate_campaign(np.random.default_rng(seed), 60_000, holdout_share, conversion_uplift).groups()


def assert_well_formed(result: CampaignResult) -> None:
    """Plain floats (or None), all finite: what a marts table can hold."""
    for name in FLOAT_FIELDS:
        value = getattr(result, name)
        assert value is None or (type(value) is float and math.isfinite(value)), f"{name} = {value!r}"
    assert result.verdict in ("invalid", "under-powered", "inconclusive", "positive", "negative")


def test_a_48_52_split_of_100k_trips_the_sample_ratio_check_and_50_50_does_not():
    assert sample_ratio_mismatch(52_000, 48_000, 0.5) < 1e-30
    assert sample_ratio_mismatch(50_000, 50_000, 0.5) == 1.0
    conversions, revenue = 5_000, 250_000.0
    skewed = campaign_result(
        GroupStats(52_000, conversions + 1_000, revenue * 1.2, revenue * 600),
        GroupStats(48_000, conversions, revenue, revenue * 500),
        0.5,
        52_000,
        0.01,
    )
    assert not skewed.is_valid and skewed.verdict == skewed.revenue_per_member_verdict == "invalid"
    assert skewed.conversion_lift_low > 0  # invalid takes precedence over a clear lift
    fair = campaign_result(
        GroupStats(50_000, conversions + 1_000, revenue * 1.2, revenue * 600),
        GroupStats(50_000, conversions, revenue, revenue * 500),
        0.5,
        50_000,
        0.01,
    )
    assert fair.is_valid and fair.verdict == "positive"


def test_sample_ratio_check_has_the_chi_square_false_alarm_rate():
    """2,000 correctly randomised splits of 10,000 members at a 10% share: p < 0.05 in 5% +- 1.5%."""
    holdout = np.random.default_rng(7).binomial(10_000, 0.1, 2_000)
    p_values = np.array([sample_ratio_mismatch(10_000 - int(h), int(h), 0.1) for h in holdout])
    assert 0.035 <= (p_values < 0.05).mean() <= 0.065
    assert p_values == pytest.approx(stats.chisquare([10_000 - holdout, holdout], [[9_000], [1_000]], axis=0).pvalue)


@pytest.mark.parametrize(
    ("treatment", "holdout", "share", "expected"),
    [(0, 0, 0.1, None), (10, 0, 0.0, 1.0), (10, 1, 0.0, 0.0), (0, 10, 1.0, 1.0), (1, 10, 1.0, 0.0)],
)
def test_sample_ratio_check_at_degenerate_shares(treatment, holdout, share, expected):
    assert sample_ratio_mismatch(treatment, holdout, share) == expected


@pytest.mark.parametrize(("seed", "uplift", "verdict"), [(1, 0.3, "positive"), (2, -0.3, "negative"), (3, 0.0, None)])
def test_verdict_follows_the_interval_when_the_test_is_powered(seed, uplift, verdict):
    result = campaign_result(*big_campaign(seed, uplift), 0.2, 48_000, 0.01)
    assert_well_formed(result)
    low, high = result.conversion_lift_low, result.conversion_lift_high
    assert result.is_valid and result.conversion_mde < 0.5 * result.holdout_conversions / result.holdout_members
    if verdict is None:
        verdict = "inconclusive" if low <= 0 <= high else ("positive" if low > 0 else "negative")
    assert result.verdict == result.conversion_verdict == verdict
    assert {"positive": "above 0", "negative": "below 0", "inconclusive": "contains 0"}[verdict] in result.reason


def test_under_powered_takes_precedence_over_a_significant_lift():
    """Conversions 40% against 10% of 100 members each: significant, but the MDE is over half the holdout rate."""
    result = campaign_result(
        GroupStats(100, 40, 2_000.0, 200_000.0), GroupStats(100, 10, 500.0, 50_000.0), 0.5, 100, 0.01
    )
    assert result.conversion_lift_low > 0 and result.conversion_lift_p_value < 0.001
    assert result.verdict == "under-powered" and "minimum detectable effect" in result.reason
    lenient = campaign_result(
        GroupStats(100, 40, 2_000.0, 200_000.0),
        GroupStats(100, 10, 500.0, 50_000.0),
        0.5,
        100,
        0.01,
        rules=VerdictRules(max_relative_mde=2.0),
    )
    assert lenient.verdict == "positive"


def test_fewer_than_min_conversions_is_under_powered():
    treatment, holdout = GroupStats(90_000, 9_000, 4.5e5, 4.5e7), GroupStats(10_000, 9, 450.0, 45_000.0)
    result = campaign_result(treatment, holdout, 0.1, 90_000, 0.001)
    assert result.verdict == result.revenue_per_member_verdict == "under-powered"
    assert result.reason == "the holdout group has 9 conversions (< 10)"
    fewer_needed = campaign_result(treatment, holdout, 0.1, 90_000, 0.001, rules=VerdictRules(min_conversions=5))
    assert "minimum detectable effect" in fewer_needed.reason


def test_primary_metric_picks_the_row_verdict():
    treatment, holdout = big_campaign(4, 0.3)
    by_revenue = campaign_result(
        treatment, holdout, 0.2, 48_000, 0.01, rules=VerdictRules(primary_metric="revenue_per_member")
    )
    assert by_revenue.verdict == by_revenue.revenue_per_member_verdict
    with pytest.raises(ValueError, match="primary_metric"):
        VerdictRules(primary_metric="clicks")


def test_incremental_revenue_and_roi_follow_the_revenue_lift():
    treatment, holdout = big_campaign(5, 0.3)
    result = campaign_result(treatment, holdout, 0.2, 40_000, 0.02)
    assert result.cost == pytest.approx(800.0)
    for suffix in ("", "_low", "_high"):
        lift = getattr(result, f"revenue_per_member_lift{suffix}")
        incremental = getattr(result, f"incremental_revenue{suffix}")
        assert incremental == pytest.approx(lift * treatment.members)
        assert getattr(result, f"roi{suffix}") == pytest.approx((incremental - 800.0) / 800.0)
    assert result.roi_low < result.roi < result.roi_high
    assert campaign_result(treatment, holdout, 0.2, 40_000, 0.0).roi is None


def test_cuped_is_used_when_both_groups_have_pre_period_sums():
    campaign = simulate_campaign(np.random.default_rng(6), 20_000, 0.1, 0.2)
    plain = campaign_result(*campaign.groups(), 0.1, 18_000, 0.01)
    cuped = campaign_result(*campaign.groups(cuped=True), 0.1, 18_000, 0.01)
    assert not plain.revenue_cuped and plain.cuped_theta is None
    assert cuped.revenue_cuped and cuped.cuped_theta > 0
    assert cuped.revenue_per_member_lift != plain.revenue_per_member_lift
    assert cuped.conversion_lift == plain.conversion_lift
    with pytest.raises(ValueError, match="one group only"):
        campaign_result(campaign.groups(cuped=True)[0], campaign.groups()[1], 0.1, 18_000, 0.01)


EDGE_CASES = {
    "empty holdout, 10% intended": (GroupStats(1_000, 50, 2_500.0, 250_000.0), GroupStats(0, 0, 0.0, 0.0), 0.1),
    "empty holdout, none intended": (GroupStats(1_000, 50, 2_500.0, 250_000.0), GroupStats(0, 0, 0.0, 0.0), 0.0),
    "no conversions": (GroupStats(900, 0, 0.0, 0.0), GroupStats(100, 0, 0.0, 0.0), 0.1),
    "a single member": (GroupStats(1, 1, 30.0, 900.0), GroupStats(0, 0, 0.0, 0.0), 0.0),
    "one member each": (GroupStats(1, 1, 30.0, 900.0), GroupStats(1, 0, 0.0, 0.0), 0.5),
    "no members": (GroupStats(0, 0, 0.0, 0.0), GroupStats(0, 0, 0.0, 0.0), 0.1),
    "everyone converts": (GroupStats(500, 500, 5_000.0, 60_000.0), GroupStats(500, 500, 5_000.0, 60_000.0), 0.5),
}


@pytest.mark.parametrize("case", EDGE_CASES)
def test_edge_cases_give_a_clear_verdict(case):
    treatment, holdout, share = EDGE_CASES[case]
    result = campaign_result(treatment, holdout, share, treatment.members, 0.01)
    assert_well_formed(result)
    assert result.reason
    if holdout.members == 0 and treatment.members and share > 0:
        assert result.verdict == "invalid" and not result.is_valid
    else:
        assert result.verdict == "under-powered" and result.is_valid


def test_everyone_converting_leaves_nothing_to_detect():
    result = campaign_result(*EDGE_CASES["everyone converts"], 500, 0.01)
    assert result.conversion_lift == 0.0 and result.conversion_lift_p_value is None
    assert result.conversion_mde is None and result.reason.startswith("minimum detectable effect undefined")
    assert result.revenue_per_member_verdict == "inconclusive"  # revenue still varies between members


def test_empty_holdout_by_design_says_so():
    treatment, holdout, share = EDGE_CASES["empty holdout, none intended"]
    result = campaign_result(treatment, holdout, share, 1_000, 0.01)
    assert result.srm_p_value == 1.0 and result.reason == "the holdout group has no members"
    assert result.conversion_lift is None and result.conversion_mde is None and result.roi is None


@pytest.mark.parametrize(
    "arguments",
    [{"holdout_share": 1.5}, {"alpha": 0.0}, {"power": 1.0}, {"messages_sent": -1}, {"cost_per_message": -0.01}],
)
def test_impossible_arguments_are_refused(arguments):
    defaults = {"holdout_share": 0.1, "messages_sent": 100, "cost_per_message": 0.01}
    with pytest.raises(ValueError):
        campaign_result(GroupStats(100, 5, 50.0, 900.0), GroupStats(10, 1, 5.0, 25.0), **{**defaults, **arguments})

"""One campaign result (a row of `marts.campaign_results`) from the two groups' sufficient statistics.

Verdicts, per metric, the first rule that applies:

1. `invalid`: the split fails the sample-ratio-mismatch check (p < `srm_alpha`); nothing else can
   be trusted, so every metric is invalid.
2. `under-powered`: a group has fewer than `min_conversions` conversions (an empty group has
   none; revenue per member also rests on the converters); or the interval is undefined; or the
   metric's MDE exceeds `max_relative_mde` times the holdout's value (conversion rate, revenue per
   member): the test could only have detected implausibly large lifts, and a significant one from
   such a test overstates the effect. The lift and its interval are still reported.
3. `positive` / `negative`: the 1 - alpha interval lies above / below 0.
4. `inconclusive`: the interval contains 0.

The row's `verdict` is that of `primary_metric` (conversion by default), with its `reason`.
Revenue per member is CUPED-adjusted when both groups carry pre-period sums (`revenue_cuped`);
incremental revenue and ROI then use the adjusted lift.
"""

from __future__ import annotations

from dataclasses import dataclass

from mercator.experiments.design import conversion_mde, revenue_per_member_mde, sample_ratio_mismatch
from mercator.experiments.lift import GroupStats, Lift, conversion_lift, cuped_theta, revenue_per_member_lift

METRICS = ("conversion", "revenue_per_member")


@dataclass(frozen=True)
class VerdictRules:
    """The thresholds of the verdict rules above; `max_relative_mde` is relative to the holdout's value."""

    srm_alpha: float = 0.001
    min_conversions: int = 10  # in each group
    max_relative_mde: float = 0.5
    primary_metric: str = "conversion"

    def __post_init__(self) -> None:
        if self.primary_metric not in METRICS:
            raise ValueError(f"primary_metric must be one of {METRICS}, not {self.primary_metric!r}")


@dataclass(frozen=True)
class CampaignResult:
    """Lifts are treatment minus holdout; intervals at 1 - alpha; None where undefined."""

    treatment_members: int
    holdout_members: int
    treatment_conversions: int
    holdout_conversions: int
    treatment_revenue: float
    holdout_revenue: float
    conversion_lift: float | None
    conversion_lift_low: float | None
    conversion_lift_high: float | None
    conversion_lift_p_value: float | None
    revenue_per_member_lift: float | None
    revenue_per_member_lift_low: float | None
    revenue_per_member_lift_high: float | None
    revenue_per_member_lift_p_value: float | None
    revenue_cuped: bool
    cuped_theta: float | None
    incremental_revenue: float | None
    incremental_revenue_low: float | None
    incremental_revenue_high: float | None
    messages_sent: int
    cost: float
    roi: float | None
    roi_low: float | None
    roi_high: float | None
    srm_p_value: float | None
    is_valid: bool
    conversion_mde: float | None
    revenue_per_member_mde: float | None
    alpha: float
    power: float
    conversion_verdict: str
    revenue_per_member_verdict: str
    verdict: str
    reason: str


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _roi(incremental: float | None, cost: float) -> float | None:
    return None if incremental is None or cost == 0 else (incremental - cost) / cost


def _verdict(
    lift: Lift,
    mde: float | None,
    holdout_value: float,
    treatment: GroupStats,
    holdout: GroupStats,
    srm_p_value: float | None,
    alpha: float,
    rules: VerdictRules,
) -> tuple[str, str]:
    """(verdict, reason) of one metric by the rules of the module docstring."""
    if srm_p_value is not None and srm_p_value < rules.srm_alpha:
        return "invalid", f"sample ratio mismatch: p = {srm_p_value:.3g} < {rules.srm_alpha}"
    for name, group in (("treatment", treatment), ("holdout", holdout)):
        if group.members == 0:
            return "under-powered", f"the {name} group has no members"
        if group.conversions < rules.min_conversions:
            return "under-powered", f"the {name} group has {group.conversions} conversions (< {rules.min_conversions})"
    if lift.low is None:
        return "under-powered", lift.reason
    if mde is None or mde > rules.max_relative_mde * holdout_value:
        shown = "undefined" if mde is None else f"{mde:.3g}"
        bound = f"{rules.max_relative_mde:.0%} of the holdout's {holdout_value:.3g}"
        return "under-powered", f"minimum detectable effect {shown} is over {bound}"
    level = f"{1 - alpha:.0%} interval"
    if lift.low > 0:
        return "positive", f"{level} above 0"
    if lift.high < 0:
        return "negative", f"{level} below 0"
    return "inconclusive", f"{level} contains 0"


def campaign_result(
    treatment: GroupStats,
    holdout: GroupStats,
    holdout_share: float,
    messages_sent: int,
    cost_per_message: float,
    alpha: float = 0.05,
    power: float = 0.8,
    rules: VerdictRules = VerdictRules(),
) -> CampaignResult:
    """Lifts, incremental revenue, ROI, SRM check, MDEs and verdicts of one audience's send.

    `holdout_share` is the intended share (the audience's `holdout_share`); `messages_sent` and
    `cost_per_message` make the cost that ROI, (incremental revenue - cost) / cost, is measured against.
    """
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError("alpha and power must be between 0 and 1")
    if messages_sent < 0 or cost_per_message < 0:
        raise ValueError("messages_sent and cost_per_message cannot be negative")
    if treatment.has_pre_period != holdout.has_pre_period:
        raise ValueError("pre-period sums in one group only")
    cuped = treatment.has_pre_period
    conversion = conversion_lift(treatment, holdout, alpha)
    revenue = revenue_per_member_lift(treatment, holdout, alpha, cuped)
    srm_p_value = sample_ratio_mismatch(treatment.members, holdout.members, holdout_share)
    metrics = {
        "conversion": (conversion, conversion_mde(treatment, holdout, alpha, power), holdout.conversions),
        "revenue_per_member": (
            revenue,
            revenue_per_member_mde(treatment, holdout, alpha, power, cuped),
            holdout.revenue,
        ),
    }
    verdicts = {
        metric: _verdict(lift, mde, total / max(holdout.members, 1), treatment, holdout, srm_p_value, alpha, rules)
        for metric, (lift, mde, total) in metrics.items()
    }
    incremental = [_scaled(value, treatment.members) for value in (revenue.estimate, revenue.low, revenue.high)]
    cost = float(cost_per_message * messages_sent)
    verdict, reason = verdicts[rules.primary_metric]
    return CampaignResult(
        treatment_members=treatment.members,
        holdout_members=holdout.members,
        treatment_conversions=treatment.conversions,
        holdout_conversions=holdout.conversions,
        treatment_revenue=float(treatment.revenue),
        holdout_revenue=float(holdout.revenue),
        conversion_lift=conversion.estimate,
        conversion_lift_low=conversion.low,
        conversion_lift_high=conversion.high,
        conversion_lift_p_value=conversion.p_value,
        revenue_per_member_lift=revenue.estimate,
        revenue_per_member_lift_low=revenue.low,
        revenue_per_member_lift_high=revenue.high,
        revenue_per_member_lift_p_value=revenue.p_value,
        revenue_cuped=cuped,
        cuped_theta=cuped_theta(treatment, holdout) if cuped and min(treatment.members, holdout.members) else None,
        incremental_revenue=incremental[0],
        incremental_revenue_low=incremental[1],
        incremental_revenue_high=incremental[2],
        messages_sent=messages_sent,
        cost=cost,
        roi=_roi(incremental[0], cost),
        roi_low=_roi(incremental[1], cost),
        roi_high=_roi(incremental[2], cost),
        srm_p_value=srm_p_value,
        is_valid=srm_p_value is None or srm_p_value >= rules.srm_alpha,
        conversion_mde=metrics["conversion"][1],
        revenue_per_member_mde=metrics["revenue_per_member"][1],
        alpha=alpha,
        power=power,
        conversion_verdict=verdicts["conversion"][0],
        revenue_per_member_verdict=verdicts["revenue_per_member"][0],
        verdict=verdict,
        reason=reason,
    )

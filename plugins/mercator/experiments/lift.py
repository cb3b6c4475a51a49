"""Lift of treatment over holdout from per-group sufficient statistics (sums SQL computes in one pass).

Conversions: the difference of proportions, Newcombe's hybrid score interval (finite at zero and
full counts; statsmodels' "score" interval fails to bracket its root at small counts, 5/100
against 3/50 say) and the two-sided Miettinen-Nurminen score test (the pooled z test with the
N / (N - 1) variance correction). The interval and the p-value come from different methods, so
they can disagree at the edge of significance; verdicts read the interval.

Revenue per member: Welch's t on the difference of means, df by Welch-Satterthwaite. With CUPED,
the metric is Y - theta (X - mean X), X the pre-period revenue and theta the within-group pooled
slope of Y on X, so the lift equals the treatment coefficient of the OLS of Y on treatment and X;
theta is then taken as known in the Welch test.

Welch's p-value runs hot when a small holdout meets heavy-tailed revenue: in A/A simulation
(tests/mercator/experiments, 10% held out, mean order value 50 with a long tail) p < 0.05 in about
11% of campaigns of 2,000 members (16 holdout converters), 9% at 5,000 and 6% at 10,000; 5% with
25% of 10,000 held out (200 holdout converters). The verdicts' under-powered rule (`result`) keeps
such campaigns from a positive or negative verdict.

A value that cannot be computed (a group too small, no variance) is None, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep


@dataclass(frozen=True)
class GroupStats:
    """One group's (treatment's or holdout's) sums over its members, intent to treat.

    Revenue is each member's revenue in the window (0 without an order); `conversions` counts the
    members with at least one. The `pre_*` sums (a pre-period revenue X per member, all three or
    none) enable CUPED. Per group, in SQL: `count(*), count(*) filter (where converted), sum(y),
    sum(y * y), sum(x), sum(x * x), sum(x * y)`.
    """

    members: int
    conversions: int
    revenue: float
    revenue_sq: float
    pre_revenue: float | None = None
    pre_revenue_sq: float | None = None
    revenue_x_pre: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.conversions <= self.members:
            raise ValueError(f"conversions must be between 0 and members ({self.members}), not {self.conversions}")
        if self.revenue_sq < 0:
            raise ValueError("revenue_sq is a sum of squares and cannot be negative")
        pre = (self.pre_revenue, self.pre_revenue_sq, self.revenue_x_pre)
        if any(value is None for value in pre) and any(value is not None for value in pre):
            raise ValueError("CUPED needs all three pre-period sums or none")

    @property
    def has_pre_period(self) -> bool:
        return self.pre_revenue is not None


@dataclass(frozen=True)
class Lift:
    """Treatment minus holdout, its interval and two-sided p-value; None where undefined (see `reason`)."""

    estimate: float | None
    low: float | None
    high: float | None
    p_value: float | None
    reason: str = ""


def _centred(total_ab: float, total_a: float, total_b: float, n: int) -> float:
    """sum((a - mean a)(b - mean b)) from the raw sums."""
    return total_ab - total_a * total_b / n


def cuped_theta(treatment: GroupStats, holdout: GroupStats) -> float:
    """Within-group pooled slope of in-window on pre-period revenue (0 when X does not vary)."""
    groups = (treatment, holdout)
    if not all(g.has_pre_period and g.members > 0 for g in groups):
        raise ValueError("CUPED needs pre-period sums and members in both groups")
    s_xy = sum(_centred(g.revenue_x_pre, g.pre_revenue, g.revenue, g.members) for g in groups)
    s_xx = sum(_centred(g.pre_revenue_sq, g.pre_revenue, g.pre_revenue, g.members) for g in groups)
    return float(s_xy / s_xx) if s_xx > 0 else 0.0


def _mean_and_variance(group: GroupStats, theta: float) -> tuple[float, float]:
    """Mean and sample variance of Y - theta X in the group (theta = 0: of Y)."""
    n = group.members
    s_yy = _centred(group.revenue_sq, group.revenue, group.revenue, n)
    mean = group.revenue / n
    if theta:
        s_xy = _centred(group.revenue_x_pre, group.pre_revenue, group.revenue, n)
        s_xx = _centred(group.pre_revenue_sq, group.pre_revenue, group.pre_revenue, n)
        s_yy += theta * (theta * s_xx - 2 * s_xy)
        mean -= theta * group.pre_revenue / n
    return mean, max(s_yy, 0.0) / (n - 1)


def revenue_moments(treatment: GroupStats, holdout: GroupStats, cuped: bool) -> tuple[float, float, float, float]:
    """(mean, variance) of the tested metric in treatment, then in holdout; groups of 2 members or more.

    The CUPED means differ from the raw ones by theta times the group's mean X; only their
    difference (the lift) is meaningful, centring X at its overall mean would shift both alike.
    """
    theta = cuped_theta(treatment, holdout) if cuped else 0.0
    return (*_mean_and_variance(treatment, theta), *_mean_and_variance(holdout, theta))


def conversion_lift(treatment: GroupStats, holdout: GroupStats, alpha: float = 0.05) -> Lift:
    """Difference of conversion rates, Newcombe interval at 1 - alpha, score-test p-value."""
    if treatment.members == 0 or holdout.members == 0:
        return Lift(None, None, None, None, "a group has no members")
    counts = (treatment.conversions, treatment.members, holdout.conversions, holdout.members)
    estimate = float(treatment.conversions / treatment.members - holdout.conversions / holdout.members)
    low, high = confint_proportions_2indep(*counts, method="newcomb", alpha=alpha)
    converted = treatment.conversions + holdout.conversions
    if converted in (0, treatment.members + holdout.members):
        reason = "no member converted" if converted == 0 else "every member converted"
        return Lift(estimate, float(low), float(high), None, f"{reason}: no p-value")
    with np.errstate(divide="ignore", invalid="ignore"):  # its ratio and odds ratio at a zero rate
        _, p_value = test_proportions_2indep(*counts, method="score", return_results=False)
    return Lift(estimate, float(low), float(high), float(p_value))


def revenue_per_member_lift(
    treatment: GroupStats, holdout: GroupStats, alpha: float = 0.05, cuped: bool = False
) -> Lift:
    """Difference of mean revenue per member (CUPED-adjusted if `cuped`), Welch interval and p-value."""
    if treatment.members < 2 or holdout.members < 2:
        return Lift(None, None, None, None, "a group has fewer than 2 members")
    mean_t, var_t, mean_c, var_c = revenue_moments(treatment, holdout, cuped)
    estimate = float(mean_t - mean_c)
    share_t, share_c = var_t / treatment.members, var_c / holdout.members
    se = math.sqrt(share_t + share_c)
    if se == 0:
        return Lift(estimate, None, None, None, "revenue per member does not vary")
    df = (share_t + share_c) ** 2 / (share_t**2 / (treatment.members - 1) + share_c**2 / (holdout.members - 1))
    half_width = float(stats.t.ppf(1 - alpha / 2, df)) * se
    p_value = stats.ttest_ind_from_stats(
        mean_t, math.sqrt(var_t), treatment.members, mean_c, math.sqrt(var_c), holdout.members, equal_var=False
    ).pvalue
    return Lift(estimate, estimate - half_width, estimate + half_width, float(p_value))

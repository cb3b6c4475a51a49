"""Checks of the experiment itself: sample ratio mismatch and the minimum detectable effects.

The MDEs are those of a two-sided level-alpha z test with the given power for the actual group
sizes (statsmodels `NormalIndPower` without the negligible opposite tail): for conversions on
Cohen's arcsine scale from the holdout rate, so it stays positive at a zero rate; for revenue per
member from the pooled within-group standard deviation of the tested metric (CUPED-adjusted when
the lift is).
"""

from __future__ import annotations

import math

from scipy import stats

from mercator.experiments.lift import GroupStats, revenue_moments


def sample_ratio_mismatch(treatment_members: int, holdout_members: int, holdout_share: float) -> float | None:
    """Chi-square goodness-of-fit p-value of the split against the intended holdout share.

    With a share of 0 or 1 a member in the group meant to be empty is a certain mismatch (0),
    otherwise 1; None without members.
    """
    if not 0 <= holdout_share <= 1:
        raise ValueError(f"holdout_share must be between 0 and 1, not {holdout_share}")
    total = treatment_members + holdout_members
    if total == 0:
        return None
    if holdout_share in (0, 1):
        return 1.0 if (holdout_members if holdout_share == 0 else treatment_members) == 0 else 0.0
    expected = (total * (1 - holdout_share), total * holdout_share)
    return float(stats.chisquare((treatment_members, holdout_members), f_exp=expected).pvalue)


def _detectable_z(treatment_members: int, holdout_members: int, alpha: float, power: float) -> float:
    """(z(1 - alpha/2) + z(power)) * sqrt(1/n_t + 1/n_c): the MDE in standard deviations of one member."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z * math.sqrt(1 / treatment_members + 1 / holdout_members))


def conversion_mde(treatment: GroupStats, holdout: GroupStats, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Smallest rise of the conversion rate above the holdout's detected with `power`.

    None without members in a group, or when even a rate of 1 would not be detected.
    """
    if treatment.members == 0 or holdout.members == 0:
        return None
    baseline = holdout.conversions / holdout.members
    angle = math.asin(math.sqrt(baseline)) + _detectable_z(treatment.members, holdout.members, alpha, power) / 2
    return math.sin(angle) ** 2 - baseline if angle <= math.pi / 2 else None


def revenue_per_member_mde(
    treatment: GroupStats, holdout: GroupStats, alpha: float = 0.05, power: float = 0.8, cuped: bool = False
) -> float | None:
    """Smallest revenue-per-member lift detected with `power`; None with fewer than 2 members in a group."""
    if treatment.members < 2 or holdout.members < 2:
        return None
    _, var_t, _, var_c = revenue_moments(treatment, holdout, cuped)
    pooled = ((treatment.members - 1) * var_t + (holdout.members - 1) * var_c) / (
        treatment.members + holdout.members - 2
    )
    return math.sqrt(pooled) * _detectable_z(treatment.members, holdout.members, alpha, power)

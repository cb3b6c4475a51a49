"""Simulated campaigns with a known effect, per member, and their sums as SQL would compute them.

Each member has a conversion propensity pi = 0.5 * Beta(1, 5.25) (mean 8%) and a spend level
s ~ lognormal(sigma 0.8) with mean 1. In the window a member converts with probability pi (times
1 + conversion_uplift if treated) and then spends Gamma(2, 25 s) (times 1 + order_value_uplift if
treated): mean order value 50. The pre-period, six windows long, has Poisson(6 pi) orders of the
same spend, so pre-period revenue predicts in-window revenue (correlation about 0.13), as CUPED needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from mercator.experiments import GroupStats

SPEND_SIGMA = 0.8
MEAN_PROPENSITY = 0.5 * 1 / (1 + 5.25)
MEAN_ORDER_VALUE = 2 * 25.0
# E[order value^2] = shape (shape + 1) scale^2 E[s^2], E[s^2] = exp(sigma^2) for a lognormal of mean 1
REVENUE_PER_MEMBER_SD = math.sqrt(
    MEAN_PROPENSITY * 2 * 3 * 25.0**2 * math.exp(SPEND_SIGMA**2) - (MEAN_PROPENSITY * MEAN_ORDER_VALUE) ** 2
)


@dataclass(frozen=True)
class Campaign:
    held_out: np.ndarray
    converted: np.ndarray
    revenue: np.ndarray
    pre_revenue: np.ndarray

    def groups(self, cuped: bool = False) -> tuple[GroupStats, GroupStats]:
        """(treatment, holdout) sums."""
        return sums(self, ~self.held_out, cuped), sums(self, self.held_out, cuped)


def sums(campaign: Campaign, mask: np.ndarray, cuped: bool = False) -> GroupStats:
    y, x = campaign.revenue[mask], campaign.pre_revenue[mask]
    pre = (float(x.sum()), float(x @ x), float(x @ y)) if cuped else (None, None, None)
    return GroupStats(int(mask.sum()), int(campaign.converted[mask].sum()), float(y.sum()), float(y @ y), *pre)


def true_lifts(conversion_uplift: float, order_value_uplift: float = 0.0) -> tuple[float, float]:
    """The population's conversion and revenue-per-member lifts (treatment minus holdout)."""
    revenue_per_member = MEAN_PROPENSITY * MEAN_ORDER_VALUE
    return (
        MEAN_PROPENSITY * conversion_uplift,
        revenue_per_member * ((1 + conversion_uplift) * (1 + order_value_uplift) - 1),
    )


def simulate_campaign(
    rng: np.random.Generator,
    members: int,
    holdout_share: float,
    conversion_uplift: float = 0.0,
    order_value_uplift: float = 0.0,
) -> Campaign:
    held_out = rng.random(members) < holdout_share
    treated = ~held_out
    propensity = 0.5 * rng.beta(1, 5.25, members)
    spend_scale = 25.0 * rng.lognormal(-(SPEND_SIGMA**2) / 2, SPEND_SIGMA, members)
    pre_revenue = rng.gamma(2.0 * rng.poisson(6 * propensity), spend_scale)
    converted = rng.random(members) < propensity * (1 + conversion_uplift * treated)
    revenue = converted * rng.gamma(2.0, spend_scale * (1 + order_value_uplift * treated))
    return Campaign(held_out, converted, revenue, pre_revenue)

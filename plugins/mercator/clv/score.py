"""Per-customer scores: expected purchases, P(alive), expected order value, discounted CLV and its interval.

Everything that needs a special function is computed once per distinct (frequency, T) pair or
(frequency, recency, T) pattern and then broadcast to customers, so scoring a million customers
costs about as much as scoring their few thousand distinct histories.

CLV sums, over `horizon_months` months of 30 days (the `lifetimes` convention), the expected
purchases in each month times the expected order value, discounted monthly at the rate equivalent
to `annual_discount_rate`. Its interval (mercator.clv.interval) reflects the uncertainty of the
fitted parameters and always contains the point estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from mercator.clv.engine import BgNbd, GammaGamma, group_patterns, to_time_unit, warn
from mercator.clv.interval import clv_interval

PURCHASE_HORIZONS_DAYS = (30, 90, 365)
MONTH_DAYS = 30.0
SCORE_COLUMNS = [
    "customer_key",
    *[f"expected_purchases_{days}d" for days in PURCHASE_HORIZONS_DAYS],
    "p_alive",
    "p_no_purchase_30d",
    "expected_order_value",
    "clv",
    "clv_lower",
    "clv_upper",
]


@dataclass(frozen=True)
class ScoreConfig:
    """CLV horizon and discounting, the interval's coverage probability, the churn split's seed."""

    horizon_months: int = 12
    annual_discount_rate: float = 0.10
    interval: float = 0.90
    seed: int = 0

    @property
    def monthly_discount_rate(self) -> float:
        return (1.0 + self.annual_discount_rate) ** (1.0 / 12.0) - 1.0


@dataclass(frozen=True)
class Histories:
    """Customers' histories in the model's time unit, with their distinct patterns and (x, T) pairs."""

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    m: np.ndarray
    pattern: np.ndarray
    pattern_x: np.ndarray
    pattern_tx: np.ndarray
    pattern_T: np.ndarray
    pair_of_pattern: np.ndarray
    pair_x: np.ndarray
    pair_T: np.ndarray


def histories(summary: pd.DataFrame, time_unit: str) -> Histories:
    x = summary["frequency"].to_numpy(dtype=float)
    tx = to_time_unit(summary["recency"].to_numpy(), time_unit)
    T = to_time_unit(summary["T"].to_numpy(), time_unit)
    patterns = group_patterns(x, tx, T)
    pair_of_pattern = (
        pd.DataFrame({"x": patterns.frequency, "T": patterns.T}).groupby(["x", "T"], sort=False).ngroup()
    ).to_numpy()
    first = np.empty(pair_of_pattern.max() + 1, dtype=np.int64)
    first[pair_of_pattern[::-1]] = np.arange(len(pair_of_pattern))[::-1]
    return Histories(
        x,
        tx,
        T,
        summary["monetary_value"].to_numpy(dtype=float),
        patterns.inverse,
        patterns.frequency,
        patterns.recency,
        patterns.T,
        pair_of_pattern,
        patterns.frequency[first],
        patterns.T[first],
    )


def discounted_purchases_if_alive(bgnbd: BgNbd, h: Histories, config: ScoreConfig) -> np.ndarray:
    """Per (x, T) pair: sum over months of the month's expected purchases (if alive), discounted."""
    month = to_time_unit(MONTH_DAYS, bgnbd.time_unit)
    cumulative = np.column_stack(
        [np.zeros(len(h.pair_x))]
        + [
            bgnbd.purchases_if_alive(k * month, h.pair_x, h.pair_T)
            for k in range(1, config.horizon_months + 1)
        ]
    )
    discount = (1.0 + config.monthly_discount_rate) ** -np.arange(1, config.horizon_months + 1)
    with np.errstate(invalid="ignore"):
        return np.diff(cumulative, axis=1) @ discount


def _fill_non_finite(values: np.ndarray, fallback: np.ndarray, what: str) -> np.ndarray:
    bad = ~np.isfinite(values)
    if bad.any():
        warn(f"{bad.sum()} non-finite {what} replaced by the heuristic's")
        values = np.where(bad, fallback, values)
    return values


def _bounded(values: np.ndarray, low: float, high: float, what: str) -> np.ndarray:
    outside = (values < low - 1e-9) | (values > high + 1e-9)
    if outside.any():
        warn(f"{outside.sum()} {what} outside [{low}, {high}] clipped")
    return np.clip(values, low, high)


def score_customers(
    summary: pd.DataFrame, bgnbd: BgNbd, gamma_gamma: GammaGamma, config: ScoreConfig = ScoreConfig()
) -> pd.DataFrame:
    """Score customers from `customer_key, frequency, recency, T, monetary_value` (days) at the as-of date."""
    h = histories(summary, bgnbd.time_unit)
    heuristic = replace(bgnbd, params=None)
    p_alive = _fill_non_finite(
        bgnbd.p_alive(h.pattern_x, h.pattern_tx, h.pattern_T),
        heuristic.p_alive(h.pattern_x, h.pattern_tx, h.pattern_T),
        "P(alive)",
    )
    p_alive = _bounded(p_alive, 0.0, 1.0, "P(alive)")

    def per_customer_purchases(if_alive: np.ndarray, fallback: np.ndarray, what: str) -> np.ndarray:
        pattern_value = p_alive * _fill_non_finite(if_alive, fallback, what)[h.pair_of_pattern]
        return _bounded(pattern_value, 0.0, np.inf, what)[h.pattern]

    scores = {"customer_key": summary["customer_key"].to_numpy()}
    for days in PURCHASE_HORIZONS_DAYS:
        t = to_time_unit(days, bgnbd.time_unit)
        scores[f"expected_purchases_{days}d"] = per_customer_purchases(
            bgnbd.purchases_if_alive(t, h.pair_x, h.pair_T),
            heuristic.purchases_if_alive(t, h.pair_x, h.pair_T),
            f"expected purchases in {days} days",
        )
    scores["p_alive"] = p_alive[h.pattern]
    t30 = to_time_unit(30, bgnbd.time_unit)
    scores["p_no_purchase_30d"] = _bounded(
        _fill_non_finite(
            bgnbd.p_no_purchase(t30, h.pattern_x, h.pattern_tx, h.pattern_T),
            heuristic.p_no_purchase(t30, h.pattern_x, h.pattern_tx, h.pattern_T),
            "P(no purchase in 30 days)",
        ),
        0.0,
        1.0,
        "P(no purchase in 30 days)",
    )[h.pattern]
    order_value = _fill_non_finite(
        gamma_gamma.expected_order_value(h.x, h.m),
        replace(gamma_gamma, params=None).expected_order_value(h.x, h.m),
        "expected order values",
    )
    scores["expected_order_value"] = _bounded(order_value, 0.0, np.inf, "expected order values")
    discounted = per_customer_purchases(
        discounted_purchases_if_alive(bgnbd, h, config),
        discounted_purchases_if_alive(heuristic, h, config),
        "discounted purchases",
    )
    scores["clv"] = discounted * scores["expected_order_value"]
    scores["clv_lower"], scores["clv_upper"] = clv_interval(
        scores["clv"], bgnbd, gamma_gamma, h, lambda model: discounted_purchases_if_alive(model, h, config),
        config.interval,
    )
    return pd.DataFrame(scores, columns=SCORE_COLUMNS)

"""Vectorised simulator of BG/NBD purchases and Gamma-Gamma spend, for tests and benchmarks.

Customers make a first purchase at a uniformly random day of the calibration window, then buy at
a Poisson rate lambda ~ Gamma(r, alpha) and after each repeat purchase drop out with probability
p ~ Beta(a, b) (Fader, Hardie & Lee 2005). Each purchase's value is Gamma(p, nu) with
nu ~ Gamma(q, gamma) (Fader, Hardie & Lee 2005, note 025).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CHURN_WINDOW_DAYS = 30


@dataclass(frozen=True)
class TrueParams:
    """Generating parameters, time in days."""

    r: float = 0.25
    alpha: float = 40.0
    a: float = 0.8
    b: float = 2.5
    p: float = 6.0
    q: float = 4.0
    gamma: float = 15.0


@dataclass(frozen=True)
class SimulatedCohort:
    """Calibration summary at the cut-off, purchases in the holdout after it, and the summary at as-of."""

    calibration: pd.DataFrame
    holdout: pd.DataFrame
    full: pd.DataFrame
    holdout_days: int


def _last_of(n: np.ndarray, k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Position in (0, 1] of the k-th of n uniform points (k <= n), 0 where k is 0."""
    out = np.zeros(n.shape)
    some = k > 0
    out[some] = rng.beta(k[some], n[some] - k[some] + 1)
    return out


def _holdout_segment(
    remaining: np.ndarray, lam: np.ndarray, days: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Purchases in a segment of `days`, the last one's day in it, and purchases left before dropout."""
    arrivals = rng.poisson(lam * days)
    purchases = np.minimum(remaining, arrivals)
    left = np.where(remaining > arrivals, remaining - arrivals, 0)
    return purchases, days * _last_of(arrivals, purchases, rng), left


def simulate_cohort(
    n_customers: int,
    params: TrueParams = TrueParams(),
    window_days: int = 730,
    holdout_days: int = 90,
    day_resolution: bool = True,
    seed: int = 0,
) -> SimulatedCohort:
    """Simulate customers; with `day_resolution` recency and T are whole days, as a warehouse would give."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params.r, 1.0 / params.alpha, n_customers)
    drop = rng.beta(params.a, params.b, n_customers)
    nu = rng.gamma(params.q, 1.0 / params.gamma, n_customers)
    lifetime_purchases = rng.geometric(drop)
    age = rng.uniform(0.0, window_days, n_customers)
    if day_resolution:
        age = np.floor(age)

    arrivals = rng.poisson(lam * age)
    frequency = np.minimum(lifetime_purchases, arrivals)
    recency = age * _last_of(arrivals, frequency, rng)
    remaining = np.where(lifetime_purchases > arrivals, lifetime_purchases - arrivals, 0)
    first_days = min(CHURN_WINDOW_DAYS, holdout_days)
    early, early_last, remaining = _holdout_segment(remaining, lam, first_days, rng)
    late, late_last, _ = _holdout_segment(remaining, lam, holdout_days - first_days, rng)
    holdout_purchases = early + late
    holdout_last = np.where(late > 0, first_days + late_last, early_last)

    some = np.maximum(frequency, 1)
    calibration_value = np.where(frequency > 0, rng.gamma(params.p * some, 1.0) / nu / some, 0.0)
    holdout_value = np.where(
        holdout_purchases > 0, rng.gamma(params.p * np.maximum(holdout_purchases, 1), 1.0) / nu, 0.0
    )
    full_frequency = frequency + holdout_purchases
    full_recency = np.where(holdout_purchases > 0, age + holdout_last, recency)
    if day_resolution:
        recency, full_recency = np.floor(recency), np.floor(full_recency)

    keys = np.arange(n_customers)
    calibration = pd.DataFrame(
        {
            "customer_key": keys,
            "frequency": frequency,
            "recency": recency,
            "T": age,
            "monetary_value": calibration_value,
        }
    )
    holdout = pd.DataFrame(
        {
            "customer_key": keys,
            "holdout_purchases": holdout_purchases,
            "holdout_purchases_30d": early,
            "holdout_revenue": holdout_value,
        }
    )
    total_value = calibration_value * frequency + holdout_value
    full = pd.DataFrame(
        {
            "customer_key": keys,
            "frequency": full_frequency,
            "recency": full_recency,
            "T": age + holdout_days,
            "monetary_value": np.where(full_frequency > 0, total_value / np.maximum(full_frequency, 1), 0.0),
        }
    )
    return SimulatedCohort(calibration, holdout, full, holdout_days)

"""The CLV interval by simulation: coverage of the true expected CLV, and the point always inside."""

import warnings

import numpy as np
import pandas as pd
import pytest
from mercator.clv.engine import BgNbd, ClvWarning, GammaGamma, fit_bgnbd, fit_gamma_gamma
from mercator.clv.score import ScoreConfig, score_customers
from mercator.clv.simulate import TrueParams, simulate_cohort

TRUE = TrueParams()
SEEDS = 80
CUSTOMERS = 2_000


def true_models(n: int) -> tuple[BgNbd, GammaGamma]:
    """The generator's own parameters as models (time in days): their CLV is the truth to cover."""
    bgnbd = BgNbd({"r": TRUE.r, "alpha": TRUE.alpha, "a": TRUE.a, "b": TRUE.b}, None, 0.0, n, 0, 0.0, "day", "mle")
    spend = GammaGamma({"p": TRUE.p, "q": TRUE.q, "v": TRUE.gamma}, None, 0.0, n, 0.0, 0.0, "mle")
    return bgnbd, spend


def fitted_scores(data: pd.DataFrame, config: ScoreConfig | None = None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClvWarning)
        bgnbd = fit_bgnbd(data["frequency"], data["recency"], data["T"])
        spend = fit_gamma_gamma(data["frequency"], data["monetary_value"])
        return bgnbd, spend, score_customers(data, bgnbd, spend, config or ScoreConfig())


def test_interval_covers_the_true_expected_clv_at_its_nominal_rate():
    """Share of (seed, customer) pairs whose true expected CLV lies inside the 90% and the 50%
    interval, over the seeds where both models were fitted (the status the coverage claim is for)."""
    covered: dict[float, list[float]] = {0.90: [], 0.50: []}
    for seed in range(SEEDS):
        data = simulate_cohort(CUSTOMERS, TRUE, window_days=365, seed=seed).calibration
        bgnbd, spend, scores = fitted_scores(data, ScoreConfig(interval=0.90))
        if bgnbd.status != "fitted" or spend.status != "fitted":
            continue
        truth = score_customers(data, *true_models(len(data)))["clv"]
        half_width = np.log(scores["clv_upper"] / scores["clv"]) * (0.6745 / 1.6449)  # z(75%) / z(95%)
        for interval, (low, high) in {
            0.90: (scores["clv_lower"], scores["clv_upper"]),
            0.50: (scores["clv"] * np.exp(-half_width), scores["clv"] * np.exp(half_width)),
        }.items():
            covered[interval].append(((low <= truth) & (truth <= high)).mean())
    assert len(covered[0.90]) >= SEEDS * 0.9
    for interval, shares in covered.items():
        observed = float(np.mean(shares))
        assert abs(observed - interval) < 0.06, f"coverage {observed:.3f} of a {interval:.0%} interval"


def degenerate_summaries() -> dict[str, pd.DataFrame]:
    """Histories that break BG/NBD or Gamma-Gamma in every known way."""
    rng = np.random.default_rng(3)
    n = 700
    first = np.floor(rng.uniform(0, 304, n))
    orders = rng.integers(1, 5, n)  # one to four orders at uniformly random days: a,b -> 0 (a bound)
    last = np.array([first[i] + (np.sort(rng.uniform(0, 304 - first[i], k - 1))[-1] if k > 1 else 0)
                     for i, k in enumerate(orders)])
    irregular = pd.DataFrame({"frequency": orders - 1.0, "recency": np.floor(last - first), "T": 304 - first,
                              "monetary_value": np.where(orders > 1, rng.gamma(3, 20, n), 0.0)})
    one_each = irregular.assign(frequency=0.0, recency=0.0, monetary_value=0.0)
    return {
        "irregular_one_to_four_orders": irregular,
        "no_repeat_purchases": one_each,
        "one_customer": irregular.iloc[:1],
        "all_orders_on_one_day": one_each.assign(T=0.0),
    }


@pytest.mark.parametrize("shape", list(degenerate_summaries()))
def test_every_interval_contains_its_point_on_degenerate_data(shape):
    data = degenerate_summaries()[shape].assign(customer_key=lambda df: np.arange(len(df)))
    data["first_value"] = 40.0
    bgnbd, spend, scores = fitted_scores(data)
    assert bgnbd.status != "fitted" and bgnbd.reason
    assert bgnbd.fallback == "shrunk_rate_heuristic" or bgnbd.status in ("penalized", "at_bound")
    assert np.isfinite(scores.drop(columns="customer_key").to_numpy()).all()
    assert ((scores["clv_lower"] <= scores["clv"]) & (scores["clv"] <= scores["clv_upper"])).all()
    assert scores["p_alive"].between(0, 1).all() and (scores["clv"] >= 0).all()

import warnings

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter
from mercator.clv.engine import ClvWarning, fit_bgnbd, fit_gamma_gamma
from mercator.clv.score import ScoreConfig, score_customers
from mercator.clv.simulate import simulate_cohort

FAST = ScoreConfig()


def fitted(n: int, seed: int = 2):
    data = simulate_cohort(n, seed=seed).calibration
    return (
        data,
        fit_bgnbd(data["frequency"], data["recency"], data["T"]),
        fit_gamma_gamma(data["frequency"], data["monetary_value"]),
    )


@pytest.fixture(scope="module")
def scored():
    data, bgnbd, spend = fitted(10_000)
    return data, bgnbd, spend, score_customers(data, bgnbd, spend, FAST)


def lifetimes_models(bgnbd, spend):
    purchases = BetaGeoFitter()
    purchases.params_ = pd.Series(bgnbd.params)
    purchases.predict = purchases.conditional_expected_number_of_purchases_up_to_time
    order_value = GammaGammaFitter()
    order_value.params_ = pd.Series(spend.params)
    return purchases, order_value


def test_scores_match_lifetimes_per_customer_formulas(scored):
    data, bgnbd, spend, scores = scored
    purchases, order_value = lifetimes_models(bgnbd, spend)
    x, tx, T = data["frequency"], data["recency"], data["T"]
    for days in (30, 90, 365):
        expected = purchases.conditional_expected_number_of_purchases_up_to_time(days, x, tx, T)
        np.testing.assert_allclose(scores[f"expected_purchases_{days}d"], expected, rtol=1e-9)
    np.testing.assert_allclose(
        scores["p_alive"], purchases.conditional_probability_alive(x, tx, T), rtol=1e-9
    )
    np.testing.assert_allclose(
        scores["expected_order_value"],
        order_value.conditional_expected_average_profit(x, data["monetary_value"]),
    )
    clv = order_value.customer_lifetime_value(
        purchases,
        x,
        tx,
        T,
        data["monetary_value"],
        time=12,
        discount_rate=FAST.monthly_discount_rate,
        freq="D",
    )
    np.testing.assert_allclose(scores["clv"], clv, rtol=1e-9)


def test_scores_are_bounded(scored):
    scores = scored[3]
    assert scores["p_alive"].between(0, 1).all()
    assert scores["p_no_purchase_30d"].between(0, 1).all()
    numeric = scores.drop(columns="customer_key")
    assert (numeric >= 0).all().all()
    assert np.isfinite(numeric.to_numpy()).all()
    assert (scores["clv_lower"] <= scores["clv"]).all() and (scores["clv"] <= scores["clv_upper"]).all()
    assert (scores["expected_purchases_30d"] <= scores["expected_purchases_365d"]).all()


def test_interval_narrows_with_more_customers(scored):
    data, bgnbd, spend, scores = scored
    small = fitted(1_000, seed=4)
    small_scores = score_customers(data, small[1], small[2], FAST)
    width = (scores["clv_upper"] - scores["clv_lower"]).median()
    small_width = (small_scores["clv_upper"] - small_scores["clv_lower"]).median()
    assert 0 < width < small_width / 2


def test_fallback_scores_are_sane_and_warned():
    data = simulate_cohort(100, seed=9).calibration
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClvWarning)
        bgnbd = fit_bgnbd(data["frequency"], data["recency"], data["T"])
        spend = fit_gamma_gamma(data["frequency"], data["monetary_value"])
    scores = score_customers(data, bgnbd, spend, FAST)
    assert bgnbd.is_fallback and spend.is_fallback
    assert bgnbd.status == "too_thin"
    assert (bgnbd.fallback, spend.fallback) == ("shrunk_rate_heuristic", "shrunk_mean_heuristic")
    assert scores["p_alive"].between(0, 1).all()
    assert (scores["clv"] >= 0).all() and scores["clv"].gt(0).any()
    assert (scores["clv_lower"] <= scores["clv"]).all() and (scores["clv"] <= scores["clv_upper"]).all()
    assert (scores["clv_upper"] > scores["clv_lower"]).any(), "the heuristic's parameters are uncertain too"
    repeat_rate = (data["frequency"].sum() + 0.5) / (data["T"].sum() + 30 * len(data))
    new = scores["expected_purchases_365d"][data["T"] == 0]
    np.testing.assert_allclose(new, repeat_rate * 365)


def test_non_finite_model_output_is_replaced_with_a_warning(scored):
    data, bgnbd, spend, _ = scored
    broken = bgnbd.__class__(**{**bgnbd.__dict__, "params": {**bgnbd.params, "a": 1.0}})
    with pytest.warns(ClvWarning, match="non-finite"):
        scores = score_customers(data, broken, spend, FAST)
    assert np.isfinite(scores["clv"]).all() and (scores["clv"] >= 0).all()

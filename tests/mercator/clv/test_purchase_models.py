"""MBG/NBD and Pareto/NBD beside BG/NBD: closed forms, fits, the time budget, and the holdout choice."""

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from lifetimes import ModifiedBetaGeoFitter, ParetoNBDFitter
from mercator.clv.engine import (
    BG_NBD,
    MBG_NBD,
    PARETO_NBD,
    ClvWarning,
    FitConfig,
    fit_purchase_model,
)
from mercator.clv.selection import Candidate, choose, ranking, selection_params
from mercator.clv.simulate import simulate_cohort


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(3_000, seed=13).calibration


@pytest.fixture(scope="module")
def fitted(cohort):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClvWarning)
        return {m: fit_purchase_model(cohort["frequency"], cohort["recency"], cohort["T"], model=m)
                for m in (BG_NBD, MBG_NBD, PARETO_NBD)}


def columns(cohort):
    return (cohort[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))


def test_closed_forms_match_lifetimes_at_the_fitted_parameters(cohort, fitted):
    x, tx, T = columns(cohort)
    for name, fitter in ((MBG_NBD, ModifiedBetaGeoFitter()), (PARETO_NBD, ParetoNBDFitter())):
        model = fitted[name]
        assert model.method == "mle" and model.status == "fitted", name
        fitter.params_ = pd.Series(model.params)
        np.testing.assert_allclose(model.p_alive(x, tx, T), fitter.conditional_probability_alive(x, tx, T),
                                   rtol=1e-9)
        for t in (30.0, 365.0):
            np.testing.assert_allclose(
                model.expected_purchases(t, x, tx, T),
                fitter.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T),
                rtol=1e-8,
            )
        none_in_30 = model.p_no_purchase(30.0, x, tx, T)
        assert np.all((none_in_30 >= 1 - model.p_alive(x, tx, T) - 1e-12) & (none_in_30 <= 1)), name


def test_weighted_mbgnbd_fit_equals_per_customer_fit(cohort, fitted):
    x, tx, T = columns(cohort)
    plain = ModifiedBetaGeoFitter().fit(x, tx, T)
    for name, value in plain.params_.items():
        assert fitted[MBG_NBD].params[name] == pytest.approx(value, rel=1e-4)
    per_customer_ll = -plain._negative_log_likelihood_ * len(x) + np.log(plain._scale) * x.sum()
    assert fitted[MBG_NBD].log_likelihood == pytest.approx(per_customer_ll, rel=1e-8)
    errors = np.sqrt(np.diag(fitted[PARETO_NBD].log_params_cov))
    assert np.all(np.isfinite(errors) & (errors < 1.0))


def test_one_time_buyers_p_alive_falls_with_recency_except_under_bgnbd(fitted):
    days_since = np.array([0.0, 90.0, 360.0, 720.0])
    T = np.full(4, 730.0)
    for name, model in fitted.items():
        alive = model.p_alive(np.zeros(4), T - days_since, T)
        if name == BG_NBD:
            np.testing.assert_array_equal(alive, 1.0)
        else:
            assert np.all(np.diff(alive) < 0) and alive[-1] < 0.8, name


def test_a_fit_past_its_time_budget_is_recorded_as_a_timeout(cohort):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClvWarning)
        model = fit_purchase_model(cohort["frequency"], cohort["recency"], cohort["T"],
                                   FitConfig(max_fit_seconds=0.0), PARETO_NBD)
    assert any("stopped at its time budget" in str(item.message) for item in caught)
    assert (model.status, model.method, model.fallback) == ("timeout", "heuristic", "shrunk_rate_heuristic")


def test_pareto_fit_on_a_sample_agrees_with_the_full_fit_within_its_errors(cohort, fitted):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClvWarning)
        sampled = fit_purchase_model(cohort["frequency"], cohort["recency"], cohort["T"],
                                     FitConfig(pareto_max_customers=1_000), PARETO_NBD)
    full = fitted[PARETO_NBD]
    errors = np.sqrt(np.diag(sampled.log_params_cov))
    assert np.all(errors > np.sqrt(np.diag(full.log_params_cov)))
    for (name, value), error in zip(sampled.params.items(), errors, strict=True):
        assert abs(np.log(value / full.params[name])) < 4 * error, name


def candidate(model, rmse: float) -> Candidate:
    return Candidate(model, 0.5, np.zeros(3), rmse / 2, rmse, 1.0, 2.0)


def test_choice_is_the_lowest_holdout_rmse_with_near_ties_to_the_simpler_model(fitted):
    bg, mbg, pareto = fitted[BG_NBD], fitted[MBG_NBD], fitted[PARETO_NBD]
    assert choose({BG_NBD: candidate(bg, 0.5), MBG_NBD: candidate(mbg, 0.4), PARETO_NBD: candidate(pareto, 0.45)}) \
        == MBG_NBD
    tied = {BG_NBD: candidate(bg, 0.4), MBG_NBD: candidate(mbg, 0.4 * (1 - 1e-12)), PARETO_NBD: candidate(pareto, 0.4)}
    assert ranking(tied) == [BG_NBD, MBG_NBD, PARETO_NBD]
    failed = candidate(replace(pareto, params=None), 0.1)
    assert ranking({BG_NBD: candidate(bg, 0.5), PARETO_NBD: failed}) == [BG_NBD]
    assert choose({PARETO_NBD: failed}) == BG_NBD


def test_selection_rows_record_metrics_and_one_choice(fitted):
    candidates = {name: candidate(model, 0.4 + i / 10) for i, (name, model) in enumerate(fitted.items())}
    rows = selection_params(candidates, MBG_NBD, "2024-06-30", {})
    values = rows.set_index(["model", "parameter"])["value"]
    assert values.xs("chosen", level="parameter").to_dict() == {BG_NBD: 0.0, MBG_NBD: 1.0, PARETO_NBD: 0.0}
    assert values[(PARETO_NBD, "holdout_rmse")] == pytest.approx(0.6)
    assert set(rows["parameter"]) == {"holdout_rmse", "holdout_mae", "holdout_predicted_purchases",
                                      "holdout_actual_purchases", "chosen"}
    assert (rows["value"] >= 0).all() and rows["status"].eq("fitted").all()

import warnings

import numpy as np
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter
from mercator.clv.engine import ClvWarning, fit_bgnbd, fit_gamma_gamma, group_patterns, params_table
from mercator.clv.simulate import TrueParams, simulate_cohort

TRUE = TrueParams()


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(20_000, TRUE, seed=7).calibration


def test_grouping_keeps_every_customer_and_pattern(cohort):
    patterns = group_patterns(cohort["frequency"], cohort["recency"], cohort["T"])
    assert patterns.weight.sum() == len(cohort)
    assert len(patterns.weight) < len(cohort) / 2
    np.testing.assert_array_equal(patterns.frequency[patterns.inverse], cohort["frequency"])
    np.testing.assert_array_equal(patterns.recency[patterns.inverse], cohort["recency"])
    np.testing.assert_array_equal(patterns.T[patterns.inverse], cohort["T"])


def test_weighted_pattern_fit_equals_per_customer_fit(cohort):
    grouped = fit_bgnbd(cohort["frequency"], cohort["recency"], cohort["T"])
    plain = BetaGeoFitter().fit(cohort["frequency"], cohort["recency"], cohort["T"])
    for name, value in plain.params_.items():
        assert grouped.params[name] == pytest.approx(value, rel=1e-4)
    # lifetimes fits in time scaled by 1/max(T), which shifts the log-likelihood by sum(x) * log(scale)
    scaled_ll = -plain._negative_log_likelihood_ * len(cohort)
    per_customer_ll = scaled_ll + np.log(plain._scale) * cohort["frequency"].sum()
    assert grouped.log_likelihood == pytest.approx(per_customer_ll, rel=1e-9)

    repeat = cohort[cohort["frequency"] > 0]
    spend = fit_gamma_gamma(cohort["frequency"], cohort["monetary_value"])
    plain_spend = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    for name, value in plain_spend.params_.items():
        assert spend.params[name] == pytest.approx(value, rel=1e-4)
    assert spend.log_likelihood == pytest.approx(
        -plain_spend._negative_log_likelihood_ * len(repeat), rel=1e-9
    )


def test_parameters_recovered_within_sampling_error():
    """Continuous-time data from known parameters: each log-parameter within 4 standard errors.

    The standard errors come from the fit's inverse Hessian (the sampling error at this n), so a
    correct estimator fails this with probability ~1e-4 per parameter; a biased one fails it.
    """
    data = simulate_cohort(20_000, TRUE, day_resolution=False, seed=11).calibration
    bgnbd = fit_bgnbd(data["frequency"], data["recency"], data["T"])
    spend = fit_gamma_gamma(data["frequency"], data["monetary_value"])
    truth = {
        "r": TRUE.r,
        "alpha": TRUE.alpha,
        "a": TRUE.a,
        "b": TRUE.b,
        "p": TRUE.p,
        "q": TRUE.q,
        "v": TRUE.gamma,
    }
    for model in (bgnbd, spend):
        errors = np.sqrt(np.diag(model.log_params_cov))
        for (name, value), error in zip(model.params.items(), errors, strict=True):
            assert abs(np.log(value) - np.log(truth[name])) < 4 * error, name
            assert error < 0.2


def test_thin_data_falls_back_with_a_warning():
    thin = simulate_cohort(300, TRUE, seed=3).calibration.assign(
        frequency=lambda df: (df.index < 10).astype(int)
    )
    thin["recency"] = np.where(thin["frequency"] > 0, thin["T"] / 2, 0.0)
    with pytest.warns(ClvWarning, match="too thin"):
        bgnbd = fit_bgnbd(thin["frequency"], thin["recency"], thin["T"])
    with pytest.warns(ClvWarning, match="too thin"):
        spend = fit_gamma_gamma(thin["frequency"], thin["monetary_value"])
    assert bgnbd.method == spend.method == "heuristic"
    table = params_table(bgnbd, spend, "2024-01-01")
    assert set(table["parameter"]) == {"heuristic_repeat_rate", "heuristic_mean_order_value"}
    assert table["log_likelihood"].isna().all()


def test_non_convergence_falls_back(monkeypatch):
    from lifetimes.utils import ConvergenceError

    def never_converges(self, *args, **kwargs):
        raise ConvergenceError("no")

    monkeypatch.setattr(BetaGeoFitter, "fit", never_converges)
    data = simulate_cohort(2_000, TRUE, seed=5).calibration
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bgnbd = fit_bgnbd(data["frequency"], data["recency"], data["T"])
    messages = [str(item.message) for item in caught if item.category is ClvWarning]
    assert sum("no convergence" in message for message in messages) == 3
    assert bgnbd.method == "heuristic"


def test_only_the_engine_imports_lifetimes():
    import re
    from pathlib import Path

    import mercator

    package = Path(mercator.__file__).parent
    importers = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if re.search(r"^\s*(from|import) lifetimes\b", path.read_text(), re.MULTILINE)
    }
    assert importers == {"clv/engine.py"}

import json

import numpy as np
import pytest
from mercator.clv.engine import ClvWarning
from mercator.clv.model_card import write_model_card
from mercator.clv.run import run_clv
from mercator.clv.simulate import simulate_cohort


@pytest.fixture(scope="module")
def run():
    cohort = simulate_cohort(10_000, seed=21)
    return run_clv(cohort.full, "2024-06-30", cohort.calibration, cohort.holdout, cohort.holdout_days)


def test_holdout_validation_tracks_actual_purchases(run):
    v = run.validation
    assert v.predicted_purchases == pytest.approx(v.actual_purchases, rel=0.1)
    assert v.mean_absolute_error < np.mean(np.abs(v.by_frequency["actual"])) * 2
    assert (v.by_frequency["predicted"].diff().dropna() > 0).all()


def test_holdout_choice_recovers_the_generator_and_is_recorded(run):
    """The cohort is drawn from BG/NBD: BG/NBD has the lowest holdout RMSE, is chosen and scores."""
    v = run.validation
    assert v.chosen == run.purchase_model.model == "bg_nbd"
    assert all(c.eligible for c in v.candidates.values())
    rows = run.params[run.params["parameter"].isin(["chosen", "holdout_rmse"])]
    table = rows.pivot(index="model", columns="parameter", values="value")
    assert table["chosen"].to_dict() == {"bg_nbd": 1.0, "mbg_nbd": 0.0, "pareto_nbd": 0.0}
    assert table["holdout_rmse"].idxmin() == "bg_nbd"


def test_churn_regression_beats_chance_on_held_out_customers(run):
    auc = run.validation.churn.holdout_auc
    assert auc["logistic_regression"] > 0.7
    assert auc["bgnbd_p_no_purchase_30d"] > 0.7
    probability = run.scores["churn_probability_30d"]
    assert probability.between(0, 1).all()


def test_params_table_shape(run):
    table = run.params
    assert list(table.columns) == [
        "model",
        "parameter",
        "method",
        "value",
        "time_unit",
        "as_of",
        "n_customers",
        "log_likelihood",
        "status",
        "status_reason",
        "fallback",
    ]
    assert set(table["model"]) == {"bg_nbd", "mbg_nbd", "pareto_nbd", "gamma_gamma", "churn"}
    assert (table["as_of"] == "2024-06-30").all()
    statuses = run.model_statuses.set_index("model")
    assert (statuses["status"] == "fitted").all() and statuses["fallback"].isna().all()
    assert statuses.loc["churn", "method"] == "logistic_regression"


def test_model_card_written(run, tmp_path):
    folder = write_model_card(run, tmp_path)
    assert folder == tmp_path / "clv" / "2024-06-30"
    for name in (
        "model_card.md",
        "params.json",
        "repeat_frequency.png",
        "holdout_calibration.png",
        "p_alive.png",
    ):
        assert (folder / name).stat().st_size > 0
    facts = json.loads((folder / "params.json").read_text())
    assert facts["bg_nbd_method"] == "mle"
    assert facts["validation"]["churn_holdout_auc"]["logistic_regression"] > 0.7
    assert "| bg_nbd | alpha |" in (folder / "model_card.md").read_text()


def test_thin_data_gives_bounded_scores_and_warnings_not_a_crash(tmp_path):
    cohort = simulate_cohort(30, seed=3)
    with pytest.warns(ClvWarning, match="too thin"):
        thin = run_clv(cohort.full, "2024-06-30", cohort.calibration, cohort.holdout, cohort.holdout_days)
    assert thin.bgnbd.method == thin.gamma_gamma.method == "heuristic"
    scores = thin.scores
    assert scores["p_alive"].between(0, 1).all() and (scores["clv"] >= 0).all()
    assert (scores["clv_lower"] <= scores["clv"]).all() and (scores["clv"] <= scores["clv_upper"]).all()
    assert any("too thin" in note for note in thin.warnings)
    assert set(thin.model_statuses["status"]) >= {"too_thin"}
    assert (write_model_card(thin, tmp_path) / "model_card.md").exists()


def test_history_shorter_than_the_holdout_scores_without_validation_and_says_so():
    cohort = simulate_cohort(2_000, window_days=60, holdout_days=90, seed=8)
    empty = cohort.calibration.iloc[:0]
    with pytest.warns(ClvWarning, match="history is shorter"):
        short = run_clv(cohort.full, "2024-06-30", empty, cohort.holdout.iloc[:0], cohort.holdout_days)
    assert short.validation is None
    churn = short.model_statuses.set_index("model").loc["churn"]
    assert (churn["status"], churn["fallback"]) == ("no_holdout", "bgnbd_p_no_purchase_30d")
    assert short.scores["churn_tier"].isin(["light", "moderate", "severe"]).all()
    assert short.scores["churn_probability_30d"].isna().all()

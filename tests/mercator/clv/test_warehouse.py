"""CLV through the real pipeline on demo data: dbt summaries, fit_clv, the marts and dim_customers.

Parameter recovery tolerance. The demo draws purchases from MBG/NBD and order values from
Gamma-Gamma (truth/params.json), but the warehouse sees a thinned process: cancelled and fully
refunded orders are not purchases and anonymous store sales reach no customer. The share of true
orders that survive as purchase periods (`kept`, measured from truth/records.csv) scales every
customer's purchase rate, i.e. the Gamma rate alpha by 1 / kept. Gamma-Gamma's log-parameters must
each lie within 4 standard errors (the fit's inverse Hessian: the sampling error at this size) plus
|log kept| of the truth. MBG/NBD's likelihood is a long flat ridge in (r, alpha, a, b) at this size
(refits of simulated cohorts of 3,500 land anywhere along it), where standard errors from the
curvature at the fit mean little: the truth, alpha scaled, must pass a likelihood-ratio test at
the 4-sigma level instead (2 * the log-likelihood gap below the chi-square(4) quantile). Even the
mean purchase rate r / alpha, which pins BG/NBD down, slides along that ridge against the dropout.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from dataclasses import replace

import numpy as np
import pytest
from mercator.clv.churn import held_out, roc_auc
from mercator.clv.engine import MBG_NBD, fit_bgnbd, fit_gamma_gamma, fit_purchase_model, mbgnbd_log_likelihood
from mercator.clv.warehouse import ClvInputs, read_inputs
from mercator.engine import DuckDBEngine
from scipy.stats import chi2, norm

from tests.mercator.clv.warehouse_fixtures import ClvBuild, clv_build

# Two demo builds (5,000 customers, and the thin one), each about a DAG run's cost: start early, not last.
pytestmark = pytest.mark.dag_runs(2)

DEMO_CUSTOMERS = 5000
TRUTH_NAMES = {"r": "bgnbd_r", "alpha": "bgnbd_alpha", "a": "bgnbd_a", "b": "bgnbd_b",
               "p": "gg_p", "q": "gg_q", "v": "gg_gamma"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> ClvBuild:
    return clv_build(tmp_path_factory.mktemp("clv-demo"), DEMO_CUSTOMERS, seed=5)


@pytest.fixture(scope="module")
def demo_inputs(demo) -> ClvInputs:
    import duckdb

    with duckdb.connect(str(demo.settings.warehouse), read_only=True) as con:
        return read_inputs(DuckDBEngine(con))


@pytest.fixture(scope="module")
def demo_fits(demo_inputs):
    """MBG/NBD (the demo's process) and Gamma-Gamma refitted at as_of as fit_clv did (for their covariances)."""
    summary = demo_inputs.summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (fit_purchase_model(summary["frequency"], summary["recency"], summary["T"], demo_inputs.config.fit,
                                   MBG_NBD),
                fit_gamma_gamma(summary["frequency"], summary["monetary_value"], demo_inputs.config.fit,
                                summary["first_value"]))


def kept_share(demo: ClvBuild) -> float:
    with (demo.landing / "truth" / "records.csv").open() as f:
        true_orders = sum(
            1 for r in csv.DictReader(f) if (r["source"], r["entity"]) in {("shop", "orders"), ("pos", "transactions")}
        )
    [(periods,)] = demo.rows("select count(*) from intermediate.int_clv_purchase_periods")
    return periods / true_orders


def test_fitted_parameters_recover_the_demo_truth(demo, demo_inputs, demo_fits):
    truth = json.loads((demo.landing / "truth" / "params.json").read_text())
    allowance = abs(math.log(kept_share(demo)))
    assert 0 < allowance < 0.3, "most true orders must reach a customer"
    purchases, spend = demo_fits
    assert (purchases.method, spend.method) == ("mle", "mle")
    errors = np.sqrt(np.diag(spend.log_params_cov))
    for (name, value), error in zip(spend.params.items(), errors, strict=True):
        assert abs(math.log(value / truth[TRUTH_NAMES[name]])) < 4 * error + allowance, name
    true_params = {name: truth[TRUTH_NAMES[name]] for name in purchases.params}
    true_params["alpha"] /= kept_share(demo)
    summary = demo_inputs.summary
    x, tx, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    weight = np.ones_like(x)
    fitted, at_truth = (mbgnbd_log_likelihood(params, x, tx, T, weight) for params in (purchases.params, true_params))
    assert 0 <= 2 * (fitted - at_truth) < chi2.isf(2 * norm.sf(4), df=4)
    stored = dict(demo.rows("select model || '.' || parameter, value from marts.clv_model_params"))
    bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"], demo_inputs.config.fit)
    assert stored["bg_nbd.alpha"] == pytest.approx(bgnbd.params["alpha"])


def test_holdout_purchases_and_churn_auc(demo, demo_inputs, demo_fits):
    facts = demo.facts
    actual = facts["holdout_actual_purchases"]
    assert actual > 100
    # the holdout total is a sum of (mixed) Poisson counts: sd ~ sqrt(actual), 4 sd allowed
    assert abs(facts["holdout_predicted_purchases"] - actual) < 4 * math.sqrt(actual)
    [(n, buyers)] = demo.rows(
        "select count(*), count(*) filter (where holdout_purchases_30d > 0) from intermediate.int_clv_summaries "
        "where summary_at = 'calibration_end'"
    )
    # AUC of a random score on the held-out half: mean 0.5, sd sqrt((n + 1) / (12 n_pos n_neg))
    pos, neg = buyers / 2, (n - buyers) / 2
    chance_sd = math.sqrt((pos + neg + 1) / (12 * pos * neg))
    auc = facts["churn_holdout_auc"]
    assert auc["logistic_regression"] > 0.5 + 4 * chance_sd
    assert auc["bgnbd_p_no_purchase_30d"] > 0.5 + 4 * chance_sd
    # the demo draws purchases from MBG/NBD: its P(no purchase in 30 days) under the true parameters
    # (alpha scaled by the kept share) is the best possible score; the regression must come close
    truth = json.loads((demo.landing / "truth" / "params.json").read_text())
    true_params = {"r": truth["bgnbd_r"], "alpha": truth["bgnbd_alpha"] / kept_share(demo),
                   "a": truth["bgnbd_a"], "b": truth["bgnbd_b"]}
    calibration = demo_inputs.calibration.merge(demo_inputs.holdout, on="customer_key")
    x, tx, T = (calibration[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    test = held_out(len(calibration), demo_inputs.config.score.seed)
    oracle = replace(demo_fits[0], params=true_params).p_no_purchase(30.0, x, tx, T)
    churned = calibration["holdout_purchases_30d"].to_numpy() == 0
    assert auc["logistic_regression"] > roc_auc(oracle[test], churned[test]) - 0.02
    assert auc["logistic_regression"] >= 0.70


def test_the_chosen_purchase_model_gives_one_time_buyers_a_p_alive_that_falls_with_recency(demo):
    models = dict(demo.rows(
        "select model, max(case when parameter = 'chosen' then value end) from marts.clv_model_params "
        "where model in ('bg_nbd', 'mbg_nbd', 'pareto_nbd') group by model"
    ))
    assert models == {name: float(name == demo.facts["purchase_model"]) for name in ("bg_nbd", "mbg_nbd", "pareto_nbd")}
    rmse = demo.facts["holdout_purchase_models"]
    assert all("holdout_rmse" in metrics for metrics in rmse.values())
    assert demo.facts["purchase_model"] != "bg_nbd", "BG/NBD gives one-time buyers P(alive) = 1"
    by_recency = [p for _, p in demo.rows(
        "select least(floor((s.t_days - s.recency_days) / 180), 3) as band, avg(c.p_alive) "
        "from marts.customer_clv as c join intermediate.int_clv_summaries as s using (customer_key) "
        "where s.summary_at = 'as_of' and s.frequency = 0 group by band order by band"
    )]
    assert len(by_recency) == 4 and all(np.diff(by_recency) < 0) and by_recency[-1] < 0.6


def test_value_at_risk_is_the_largest_share_of_value_in_the_severe_tier(demo):
    """Value at risk as the reports compute it (clv * (1 - p_alive) / p_alive), over the tier's value
    if alive (clv / p_alive): the value-weighted P(dead) of each tier."""
    share = dict(demo.rows(
        "select churn_tier, sum(clv * (1 - p_alive) / p_alive) / sum(clv / p_alive) "
        "from marts.customer_clv where p_alive > 0 group by churn_tier"
    ))
    assert share["severe"] > share["moderate"] > share["light"] > 0


def test_churn_tiers_rank_by_churn_risk_in_their_shares(demo):
    rows = dict((tier, (n, low, high)) for tier, n, low, high in demo.rows(
        "select churn_tier, count(*), min(churn_probability_30d), max(churn_probability_30d) "
        "from marts.customer_clv group by all"
    ))
    total = sum(n for n, _, _ in rows.values())
    assert rows["severe"][0] <= 0.2 * total < rows["severe"][0] + rows["moderate"][0]
    assert rows["light"][2] <= rows["moderate"][1] and rows["moderate"][2] <= rows["severe"][1]


def test_scores_are_bounded_and_reach_dim_customers(demo):
    [(bad,)] = demo.rows(
        "select count(*) from marts.customer_clv where not (p_alive between 0 and 1) or clv < 0 "
        "or not (clv_lower <= clv and clv <= clv_upper) or clv_lower is null"
    )
    assert bad == 0
    [(scored, buyers, matching)] = demo.rows(
        "select (select count(*) from marts.customer_clv), "
        "(select count(distinct customer_key) from marts.fct_orders where is_countable and customer_key is not null), "
        "(select count(*) from marts.customer_clv as c join marts.dim_customers as d using (customer_key) "
        " where c.clv = d.clv and c.p_alive = d.p_alive and c.churn_tier = d.churn_tier)"
    )
    assert scored == buyers == matching
    folder = demo.settings.models_dir / "clv" / demo.facts["as_of"]
    assert {"model_card.md", "params.json", "holdout_calibration.png"} <= {p.name for p in folder.iterdir()}


def test_lifecycle_stage_covers_every_customer(demo):
    rows = dict(demo.rows(
        "select d.lifecycle_stage, count(*) from marts.dim_customers as d group by all"
    ))
    assert None not in rows and sum(rows.values()) == demo.rows("select count(*) from marts.dim_customers")[0][0]
    assert {"prospect", "new", "active", "at_risk", "churned"} <= set(rows)
    [(prospects_with_purchase, history_rows, customers)] = demo.rows(
        "select (select count(*) from marts.dim_customers where lifecycle_stage = 'prospect' and order_count > 0), "
        "(select count(*) from snapshots.customer_lifecycle_history where dbt_valid_to is null), "
        "(select count(*) from marts.dim_customers)"
    )
    assert prospects_with_purchase == 0
    assert history_rows == customers


def test_thin_landing_falls_back_and_keeps_the_pipeline_green(tmp_path):
    build = clv_build(tmp_path, 30, seed=3)
    assert build.facts["bg_nbd_method"] == "heuristic"
    assert any("too thin" in w for w in build.facts["warnings"])
    [(n, bad, outside)] = build.rows(
        "select count(*), count(*) filter (where not (p_alive between 0 and 1) or clv < 0 or clv is null), "
        "count(*) filter (where not (clv_lower <= clv and clv <= clv_upper)) from marts.customer_clv"
    )
    assert n > 0 and bad == 0 and outside == 0
    statuses = set(build.rows("select distinct model, method, status, fallback from marts.clv_model_params"))
    assert {("bg_nbd", "heuristic", "too_thin", "shrunk_rate_heuristic"),
            ("gamma_gamma", "heuristic", "too_thin", "shrunk_mean_heuristic")} <= statuses
    assert build.rows("select count(*) from marts.clv_model_params where status_reason is null") == [(0,)]
    assert build.rows(
        "select count(*) from marts.dim_customers where lifecycle_stage is null"
    ) == [(0,)]
    # the on-run-start hook creates the ml tables with the columns fit_clv writes
    assert build.ml_columns_before_fit == build.rows(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'ml' and table_name in ('customer_clv_scores', 'clv_model_params') order by all"
    )

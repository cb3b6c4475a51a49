"""Benchmark CLV fit + score: Mercator's grouped engine vs plain `lifetimes` on one row per customer,
and the fit time of each purchase model the holdout chooses among.

    .venv/bin/python bench/bench_clv.py --customers 100000 1000000 [--plain-max 1000000]

For each size: simulate day-resolution customer summaries (as the warehouse gives them), then
time (a) `fit_bgnbd` + `fit_gamma_gamma` + `score_customers` (scores and their CLV interval),
and (b) BetaGeoFitter/GammaGammaFitter fitted on one row per customer and its per-customer
predictions (30/90/365-day purchases, P(alive), expected order value, 12-month CLV).
Prints the distinct-pattern count, both timings, their ratio and the largest relative
parameter difference. Sizes above --plain-max skip the plain run. Then, per size, the grouped fit
of BG/NBD, MBG/NBD and Pareto/NBD (fit_purchase_model, with its time budget), its status and
seconds: fit_clv fits all three on the calibration period and the chosen one again at as-of.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from mercator.clv.engine import PURCHASE_MODELS, fit_bgnbd, fit_gamma_gamma, fit_purchase_model, group_patterns
from mercator.clv.score import ScoreConfig, score_customers
from mercator.clv.simulate import simulate_cohort


def grouped_run(summary: pd.DataFrame, config: ScoreConfig) -> tuple[dict[str, float], pd.DataFrame]:
    bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    spend = fit_gamma_gamma(summary["frequency"], summary["monetary_value"])
    return {**bgnbd.params, **spend.params}, score_customers(summary, bgnbd, spend, config)


def plain_run(summary: pd.DataFrame, config: ScoreConfig) -> tuple[dict[str, float], pd.DataFrame]:
    x, tx, T, m = (summary[column] for column in ("frequency", "recency", "T", "monetary_value"))
    purchases = BetaGeoFitter().fit(x, tx, T)
    repeat = summary[x > 0]
    spend = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    scores = pd.DataFrame({"customer_key": summary["customer_key"]})
    for days in (30, 90, 365):
        scores[f"expected_purchases_{days}d"] = purchases.conditional_expected_number_of_purchases_up_to_time(
            days, x, tx, T
        )
    scores["p_alive"] = purchases.conditional_probability_alive(x, tx, T)
    scores["expected_order_value"] = spend.conditional_expected_average_profit(x, m)
    scores["clv"] = spend.customer_lifetime_value(
        purchases,
        x,
        tx,
        T,
        m,
        time=config.horizon_months,
        discount_rate=config.monthly_discount_rate,
        freq="D",
    ).to_numpy()
    return {**purchases.params_.to_dict(), **spend.params_.to_dict()}, scores


def purchase_model_fit(summary: pd.DataFrame, model: str):
    return fit_purchase_model(summary["frequency"], summary["recency"], summary["T"], model=model)


def timed(run, *args):
    start = time.perf_counter()
    result = run(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--plain-max", type=int, default=1_000_000, help="largest size to run plain lifetimes on"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    config = ScoreConfig()
    print("customers patterns grouped_s plain_s plain/grouped param_rel_diff clv_rel_diff")
    summaries = {n: simulate_cohort(n, seed=1).calibration for n in args.customers}
    for n, summary in summaries.items():
        patterns = len(group_patterns(summary["frequency"], summary["recency"], summary["T"]).weight)
        grouped_s, (grouped_params, grouped_scores) = timed(grouped_run, summary, config)
        row = f"{n} {patterns} {grouped_s:.2f}"
        if n <= args.plain_max:
            plain_s, (plain_params, plain_scores) = timed(plain_run, summary, config)
            param_diff = max(abs(grouped_params[k] / plain_params[k] - 1) for k in plain_params)
            clv_diff = np.max(
                np.abs(grouped_scores["clv"] - plain_scores["clv"]) / (plain_scores["clv"] + 1e-9)
            )
            row += f" {plain_s:.2f} {plain_s / grouped_s:.1f} {param_diff:.1e} {clv_diff:.1e}"
        else:
            row += " skipped - - -"
        print(row, flush=True)
    print("customers model status fit_s")
    for n, summary in summaries.items():
        for model in PURCHASE_MODELS:
            seconds, fitted = timed(purchase_model_fit, summary, model)
            print(f"{n} {model} {fitted.status} {seconds:.2f}", flush=True)


if __name__ == "__main__":
    main()

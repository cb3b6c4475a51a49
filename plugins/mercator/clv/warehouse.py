"""CLV in the warehouse: dbt's int_clv_summaries in, ml.customer_clv_scores and ml.clv_model_params out.

Only the per-customer summary (one row per customer and cut-off) is read into pandas. The run's
settings (time unit, holdout, horizon, discount rate, interval, churn tiers) come from dbt's
int_clv_settings, so the dbt vars are their one home. Both outputs are replaced together (in one
transaction on DuckDB); dbt's second pass reads them as source `ml`. Reads and writes go through
mercator.engine, so the same code runs on DuckDB and on Spark.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mercator.clv.churn import ChurnTiers
from mercator.clv.engine import PARAMS_COLUMNS, FitConfig
from mercator.clv.model_card import write_model_card
from mercator.clv.run import ClvConfig, ClvRun, run_clv
from mercator.clv.score import MONTH_DAYS, SCORE_COLUMNS, ScoreConfig
from mercator.engine import Engine

SETTINGS_TABLE = "intermediate.int_clv_settings"
SUMMARIES_TABLE = "intermediate.int_clv_summaries"
SCORES_TABLE = "ml.customer_clv_scores"
PARAMS_TABLE = "ml.clv_model_params"
SCORES_OUTPUT = [*SCORE_COLUMNS, "churn_tier", "churn_probability_30d", "as_of"]
PARAMS_OUTPUT = PARAMS_COLUMNS
SUMMARY_COLUMNS = {"recency_days": "recency", "t_days": "T"}


@dataclass(frozen=True)
class ClvInputs:
    as_of: str
    summary: pd.DataFrame
    calibration: pd.DataFrame
    holdout: pd.DataFrame
    holdout_days: int
    config: ClvConfig


def clv_config(settings: pd.Series) -> ClvConfig:
    """The run's configuration from int_clv_settings' row."""
    return ClvConfig(
        fit=FitConfig(time_unit=str(settings["time_unit"])),
        score=ScoreConfig(
            horizon_months=max(1, round(int(settings["horizon_days"]) / MONTH_DAYS)),
            annual_discount_rate=float(settings["discount_rate_annual"]),
            interval=float(settings["interval_coverage"]),
        ),
        tiers=ChurnTiers(
            severe_share=float(settings["churn_severe_share"]),
            moderate_share=float(settings["churn_moderate_share"]),
        ),
    )


def read_inputs(engine: Engine) -> ClvInputs | None:
    """The summaries at as_of and at calibration_end; None when no customer has a purchase."""
    settings = engine.read_frame(f"select * from {SETTINGS_TABLE}").iloc[0]
    if pd.isna(settings["as_of"]):
        return None
    summaries = engine.read_frame(
        f"select * from {SUMMARIES_TABLE} order by customer_key, summary_at"
    ).rename(columns=SUMMARY_COLUMNS)
    at = summaries.pop("summary_at")
    summary_columns = ["customer_key", "frequency", "recency", "T", "monetary_value", "first_value"]
    calibration = summaries[at == "calibration_end"].reset_index(drop=True)
    return ClvInputs(
        as_of=pd.Timestamp(settings["as_of"]).date().isoformat(),
        summary=summaries.loc[at == "as_of", summary_columns].reset_index(drop=True),
        calibration=calibration[summary_columns[:-1]],
        holdout=calibration[["customer_key", "holdout_purchases", "holdout_purchases_30d"]],
        holdout_days=int(settings["holdout_days"]),
        config=clv_config(settings),
    )


def fit(inputs: ClvInputs) -> ClvRun:
    """run_clv; it validates on the holdout only when the calibration period has customers."""
    return run_clv(
        inputs.summary, inputs.as_of, inputs.calibration, inputs.holdout, inputs.holdout_days, inputs.config
    )


STRING_COLUMNS = {
    "customer_key", "churn_tier", "model", "parameter", "method", "time_unit", "status", "status_reason", "fallback",
}
OTHER_TYPES = {"as_of": "date", "n_customers": "bigint"}


def _types(columns: list[str]) -> dict[str, str]:
    return {c: "string" if c in STRING_COLUMNS else OTHER_TYPES.get(c, "double") for c in columns}


def write_outputs(engine: Engine, scores: pd.DataFrame, params: pd.DataFrame) -> None:
    """Replace both ml tables (on DuckDB in one transaction: readers see the old run or the new one)."""
    engine.write_frames({
        SCORES_TABLE: (scores, _types(SCORES_OUTPUT)),
        PARAMS_TABLE: (params, _types(PARAMS_OUTPUT)),
    })


def run_summary(run: ClvRun) -> dict:
    """What the task reports: methods, the scoring purchase model, parameters, holdout errors (the
    scoring model's and every candidate's) and churn AUC, warnings."""
    facts: dict = {
        "as_of": run.as_of,
        "customers": len(run.scores),
        "bg_nbd_method": run.bgnbd.method,
        "purchase_model": run.purchase_model.model,
        "gamma_gamma_method": run.gamma_gamma.method,
        "model_status": {r.model: r.status for r in run.model_statuses.itertuples()},
        "params": {f"{r.model}.{r.parameter}": float(r.value) for r in run.params.itertuples()},
        "warnings": list(run.warnings),
    }
    if run.validation is not None:
        v = run.validation
        facts |= {
            "holdout_days": v.holdout_days,
            "holdout_predicted_purchases": v.predicted_purchases,
            "holdout_actual_purchases": v.actual_purchases,
            "holdout_mean_absolute_error": v.mean_absolute_error,
            "holdout_purchase_models": {name: c.metrics() for name, c in v.candidates.items()},
            "churn_holdout_auc": {k: float(a) for k, a in v.churn.holdout_auc.items() if np.isfinite(a)},
        }
    return facts


def fit_and_store(engine: Engine, models_dir: Path) -> dict:
    """Fit and score at as_of, write the ml tables and the model card; a summary of the run."""
    inputs = read_inputs(engine)
    if inputs is None:
        write_outputs(engine, pd.DataFrame(columns=SCORES_OUTPUT), pd.DataFrame(columns=PARAMS_OUTPUT))
        return {"customers": 0}
    run = fit(inputs)
    write_outputs(engine, run.scores, run.params)
    facts = run_summary(run)
    facts["model_card"] = str(write_model_card(run, models_dir))
    return facts

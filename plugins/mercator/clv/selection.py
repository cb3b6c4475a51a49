"""Which purchase model scores: BG/NBD, MBG/NBD and Pareto/NBD fitted on the calibration period and
compared on the holdout after it.

The criterion is the per-customer root mean squared error of predicted vs actual holdout purchases:
the expected count is what minimises squared error, so RMSE rewards the right mean for each customer
(MAE rewards the median, which for mostly-zero counts is 0). A model that fell back to the heuristic
(too thin, no convergence, a bound hit, a timeout) is not eligible. RMSEs equal to within
TIE_TOLERANCE (relative) go to the simpler model (the order of PURCHASE_MODELS); with no eligible
model, BG/NBD (its fallback) scores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mercator.clv.engine import (
    BG_NBD,
    PARAMS_COLUMNS,
    PURCHASE_MODELS,
    BgNbd,
    FitConfig,
    fit_purchase_model,
    to_time_unit,
)

TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Candidate:
    """A purchase model fitted on the calibration period and its errors on the holdout."""

    model: BgNbd
    fit_seconds: float
    predicted: np.ndarray
    mean_absolute_error: float
    root_mean_squared_error: float
    predicted_purchases: float
    actual_purchases: float

    @property
    def eligible(self) -> bool:
        return not self.model.is_fallback

    def metrics(self) -> dict[str, float]:
        """Holdout metrics (none for a fallback, which is not compared). Not the fit time: the mart must
        come out the same on a rerun (the model card shows it)."""
        measured = {
            "holdout_rmse": self.root_mean_squared_error,
            "holdout_mae": self.mean_absolute_error,
            "holdout_predicted_purchases": self.predicted_purchases,
            "holdout_actual_purchases": self.actual_purchases,
        }
        return measured if self.eligible else {}


def fit_candidate(
    model: str, calibration: pd.DataFrame, actual: np.ndarray, holdout_days: int, config: FitConfig
) -> Candidate:
    """Fit `model` on `calibration` (frequency, recency, T in days) and predict its holdout purchases."""
    x = calibration["frequency"].to_numpy(dtype=float)
    start = time.perf_counter()
    fitted = fit_purchase_model(x, calibration["recency"], calibration["T"], config, model)
    seconds = time.perf_counter() - start
    tx, T = (to_time_unit(calibration[c].to_numpy(dtype=float), fitted.time_unit) for c in ("recency", "T"))
    predicted = fitted.expected_purchases(to_time_unit(holdout_days, fitted.time_unit), x, tx, T)
    error = predicted - actual
    return Candidate(
        fitted,
        seconds,
        predicted,
        float(np.mean(np.abs(error))),
        float(np.sqrt(np.mean(error**2))),
        float(predicted.sum()),
        float(actual.sum()),
    )


def ranking(candidates: dict[str, Candidate]) -> list[str]:
    """Eligible candidates, best first: lowest holdout RMSE, near-ties to the simpler model."""
    order = [m for m in PURCHASE_MODELS if m in candidates and candidates[m].eligible]
    ranked: list[str] = []
    for name in order:  # insertion by RMSE keeps the simpler model first among near-ties
        rmse = candidates[name].root_mean_squared_error
        position = next(
            (i for i, other in enumerate(ranked)
             if rmse < candidates[other].root_mean_squared_error * (1 - TIE_TOLERANCE)),
            len(ranked),
        )
        ranked.insert(position, name)
    return ranked


def choose(candidates: dict[str, Candidate]) -> str:
    """The best-ranked candidate; BG/NBD (its fallback) when none is eligible."""
    return next(iter(ranking(candidates)), BG_NBD)


def selection_params(
    candidates: dict[str, Candidate], chosen: str, as_of: str, statuses: dict[str, BgNbd]
) -> pd.DataFrame:
    """Params-table rows (PARAMS_COLUMNS) of each candidate's holdout metrics, fit time and `chosen`
    (1 or 0). Method and status are those of `statuses[model]` (the as-of fit) where given, else the
    calibration fit's; n_customers counts the calibration customers."""
    rows = []
    for name, candidate in candidates.items():
        status = statuses.get(name, candidate.model)
        values = {**candidate.metrics(), "chosen": float(name == chosen)}
        rows += [
            (name, parameter, status.method, value, None, as_of, candidate.model.n_customers, float("nan"),
             status.status, status.reason, status.fallback)
            for parameter, value in values.items()
        ]
    return pd.DataFrame(rows, columns=PARAMS_COLUMNS)

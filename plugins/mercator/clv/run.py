"""One CLV run: validate on a calibration/holdout split before the as-of date, then fit and score at it.

Validation fits BG/NBD, MBG/NBD and Pareto/NBD on the calibration period and picks the one that scores
by its holdout error (mercator.clv.selection); at the as-of date BG/NBD is fitted (its parameters are
reported for comparison with published results) and so is the best-ranked model, which scores (the
next one when its as-of fit falls back).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mercator.clv.churn import FALLBACK as CHURN_FALLBACK
from mercator.clv.churn import ChurnModel, ChurnTiers, churn_tier, fit_churn_model
from mercator.clv.engine import (
    BG_NBD,
    PARAMS_COLUMNS,
    PURCHASE_MODEL_NAMES,
    PURCHASE_MODELS,
    BgNbd,
    ClvWarning,
    FitConfig,
    GammaGamma,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_purchase_model,
    params_table,
    to_time_unit,
    warn,
)
from mercator.clv.score import ScoreConfig, score_customers
from mercator.clv.selection import Candidate, choose, fit_candidate, ranking, selection_params

FREQUENCY_BINS = 8


@dataclass(frozen=True)
class ClvConfig:
    fit: FitConfig = field(default_factory=FitConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    tiers: ChurnTiers = field(default_factory=ChurnTiers)


@dataclass(frozen=True)
class Validation:
    """Models fitted on the calibration period and their errors on the holdout period after it; the
    errors, by_frequency and p_alive are the chosen purchase model's."""

    holdout_days: int
    bgnbd: BgNbd
    candidates: dict[str, Candidate]
    chosen: str
    by_frequency: pd.DataFrame
    mean_absolute_error: float
    root_mean_squared_error: float
    predicted_purchases: float
    actual_purchases: float
    churn: ChurnModel
    p_alive: np.ndarray


@dataclass(frozen=True)
class ClvRun:
    as_of: str
    bgnbd: BgNbd
    purchase_model: BgNbd
    gamma_gamma: GammaGamma
    summary: pd.DataFrame
    scores: pd.DataFrame
    params: pd.DataFrame
    validation: Validation | None
    warnings: tuple[str, ...]

    @property
    def model_statuses(self) -> pd.DataFrame:
        """One row per model: `model, method, status, status_reason, fallback`."""
        columns = ["model", "method", "status", "status_reason", "fallback"]
        return self.params[columns].drop_duplicates("model").reset_index(drop=True)


def churn_params(validation: Validation | None, holdout_days: int | None, as_of: str) -> pd.DataFrame:
    """The churn model's rows of the params table: its holdout AUCs, or why it was not validated."""
    if validation is None:
        reason = f"no customer bought before the {holdout_days or 0}-day holdout: the history is shorter"
        warn(f"churn: {reason}; churn tiers rank by {CHURN_FALLBACK}")
        values, status, method = {"holdout_days": float(holdout_days or 0)}, "no_holdout", "heuristic"
    else:
        churn = validation.churn
        values = {f"holdout_auc_{name}": auc for name, auc in churn.holdout_auc.items() if np.isfinite(auc)}
        values = values or {"holdout_days": float(validation.holdout_days)}
        status, reason = churn.status, churn.reason
        method = "logistic_regression" if churn.coefficients is not None else "heuristic"
    n = validation.churn.n_train + validation.churn.n_test if validation is not None else 0
    rows = [
        ("churn", name, method, value, None, as_of, n, float("nan"), status, reason,
         None if method == "logistic_regression" else CHURN_FALLBACK)
        for name, value in values.items()
    ]
    return pd.DataFrame(rows, columns=PARAMS_COLUMNS)


def validate(
    calibration: pd.DataFrame, holdout: pd.DataFrame, holdout_days: int, config: ClvConfig
) -> Validation:
    """`holdout` has customer_key, holdout_purchases, holdout_purchases_30d for calibration's customers."""
    joined = calibration.merge(holdout, on="customer_key", how="left", validate="one_to_one").fillna(
        {"holdout_purchases": 0, "holdout_purchases_30d": 0}
    )
    x, tx, T = (joined[column].to_numpy(dtype=float) for column in ("frequency", "recency", "T"))
    actual = joined["holdout_purchases"].to_numpy(dtype=float)
    with warnings.catch_warnings():  # the calibration fit's warnings repeat the as-of fit's
        warnings.simplefilter("ignore", ClvWarning)
        candidates = {m: fit_candidate(m, joined, actual, holdout_days, config.fit) for m in PURCHASE_MODELS}
    chosen = choose(candidates)
    bgnbd, scoring = candidates[BG_NBD].model, candidates[chosen]
    unit_tx, unit_T = to_time_unit(tx, bgnbd.time_unit), to_time_unit(T, bgnbd.time_unit)
    predicted = scoring.predicted
    p_alive = scoring.model.p_alive(x, unit_tx, unit_T)
    t30 = to_time_unit(30, bgnbd.time_unit)
    churn_scores = {
        "one_minus_p_alive": 1.0 - bgnbd.p_alive(x, unit_tx, unit_T),
        "bgnbd_p_no_purchase_30d": bgnbd.p_no_purchase(t30, x, unit_tx, unit_T),
    }
    if chosen != BG_NBD:
        churn_scores |= {
            f"{chosen}_one_minus_p_alive": 1.0 - p_alive,
            f"{chosen}_p_no_purchase_30d": scoring.model.p_no_purchase(t30, x, unit_tx, unit_T),
        }
    by_frequency = (
        pd.DataFrame(
            {"frequency": np.minimum(x, FREQUENCY_BINS - 1), "actual": actual, "predicted": predicted}
        )
        .groupby("frequency")
        .agg(customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"))
        .reset_index()
    )
    churn = fit_churn_model(
        joined,
        joined["holdout_purchases_30d"].to_numpy(),
        churn_scores,
        seed=config.score.seed,
    )
    return Validation(
        holdout_days,
        bgnbd,
        candidates,
        chosen,
        by_frequency,
        scoring.mean_absolute_error,
        scoring.root_mean_squared_error,
        scoring.predicted_purchases,
        scoring.actual_purchases,
        churn,
        p_alive,
    )


def scoring_model(summary: pd.DataFrame, bgnbd: BgNbd, ranked: list[str], config: FitConfig) -> BgNbd:
    """The best-ranked purchase model whose as-of fit does not fall back; else BG/NBD (fitted or not)."""
    for name in ranked:
        model = bgnbd if name == BG_NBD else fit_purchase_model(
            summary["frequency"], summary["recency"], summary["T"], config, name
        )
        if not model.is_fallback:
            return model
        warn(f"{PURCHASE_MODEL_NAMES[name]}, ranked on the holdout, fell back at the as-of date: the next scores")
    return bgnbd


def run_clv(
    summary: pd.DataFrame,
    as_of: str,
    calibration: pd.DataFrame | None = None,
    holdout: pd.DataFrame | None = None,
    holdout_days: int | None = None,
    config: ClvConfig | None = None,
) -> ClvRun:
    """Fit at `as_of` on `summary` (customer_key, frequency, recency, T, monetary_value in days; optional
    first_value) and score.

    With a non-empty `calibration` (the same summary at as_of - holdout_days) and `holdout` (purchases
    after it), also validate; the churn regression fitted there gives `churn_probability_30d`.
    """
    config = config or ClvConfig()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClvWarning)
        validation = None
        if calibration is not None and len(calibration) and holdout is not None and holdout_days:
            validation = validate(calibration, holdout, holdout_days, config)
        bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"], config.fit)
        ranked = ranking(validation.candidates) if validation is not None else [BG_NBD]
        purchase_model = scoring_model(summary, bgnbd, ranked, config.fit)
        gamma_gamma = fit_gamma_gamma(
            summary["frequency"], summary["monetary_value"], config.fit, summary.get("first_value")
        )
        scores = score_customers(summary, purchase_model, gamma_gamma, config.score)
        as_of_models = [purchase_model] if purchase_model is not bgnbd else []
        tables = [params_table(bgnbd, gamma_gamma, as_of, *as_of_models)]
        if validation is not None:
            statuses = {m.model: m for m in (bgnbd, *as_of_models)}
            tables.append(selection_params(validation.candidates, purchase_model.model, as_of, statuses))
        params = pd.concat(
            [*tables, churn_params(validation, holdout_days, as_of)],
            ignore_index=True,
        )
    notes = tuple(str(item.message) for item in caught if issubclass(item.category, ClvWarning))
    for item in caught:
        warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    scores["churn_probability_30d"] = (
        validation.churn.predict(summary) if validation is not None else np.full(len(summary), np.nan)
    )
    risk = scores["churn_probability_30d"].to_numpy(dtype=float)
    risk = np.where(np.isfinite(risk), risk, scores["p_no_purchase_30d"].to_numpy(dtype=float))
    scores["churn_tier"] = churn_tier(risk, config.tiers)
    scores["as_of"] = as_of
    return ClvRun(as_of, bgnbd, purchase_model, gamma_gamma, summary, scores, params, validation, notes)

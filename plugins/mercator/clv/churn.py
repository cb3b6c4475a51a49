"""30-day churn risk: a logistic regression on behavioural features, ranked into tiers.

The logistic model predicts "no purchase in the next 30 days" from log frequency, days since the
last purchase, log customer age and log mean order value. It is fitted on a random half of the
calibration customers (label: no purchase in the first 30 holdout days) and its AUC is measured on
the other half, next to the AUC of the BG/NBD scores on the same customers.

Tiers rank customers by that risk (fallback: the scoring purchase model's P(no purchase in 30 days)),
not by P(alive): BG/NBD gives every one-time buyer P(alive) = 1, so its 1 - P(alive) ranks next
month's non-buyers worse than chance (holdout AUC 0.32 on the 5,000-customer test demo, whose
one-time buyers drop out as MBG/NBD's do; Pareto/NBD's 0.73, the regression's 0.79).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from mercator.clv.engine import warn

TIERS = ("light", "moderate", "severe")
MIN_PER_CLASS = 10  # training customers needed in each class (bought / did not buy in 30 days)
FALLBACK = "bgnbd_p_no_purchase_30d"
FEATURES = ["log_frequency", "days_since_last_purchase", "log_age_days", "log_order_value"]


@dataclass(frozen=True)
class ChurnTiers:
    """The riskiest `severe_share` of customers are severe, the next `moderate_share` moderate, the rest light."""

    severe_share: float = 0.2
    moderate_share: float = 0.3


def churn_tier(risk: np.ndarray, tiers: ChurnTiers = ChurnTiers()) -> np.ndarray:
    """Tier of each customer by the rank of its churn risk (higher = riskier); equal risks share a tier."""
    risk = np.asarray(risk, dtype=float)
    if len(risk) == 0:
        return np.array([], dtype=object)
    at_least_as_risky = rankdata(-risk, method="max") / len(risk)
    return np.where(
        at_least_as_risky <= tiers.severe_share,
        "severe",
        np.where(at_least_as_risky <= tiers.severe_share + tiers.moderate_share, "moderate", "light"),
    )


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """P(score of a random positive > score of a random negative), ties counting half (Mann-Whitney)."""
    labels = np.asarray(labels, dtype=bool)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def held_out(n_customers: int, seed: int = 0) -> np.ndarray:
    """The random half of the calibration customers the churn AUCs are measured on."""
    return np.random.default_rng(seed).random(n_customers) < 0.5


def churn_features(summary: pd.DataFrame) -> pd.DataFrame:
    """Behavioural features from a `frequency, recency, T, monetary_value` summary in days."""
    return pd.DataFrame(
        {
            "const": 1.0,
            "log_frequency": np.log1p(summary["frequency"].to_numpy(dtype=float)),
            "days_since_last_purchase": (summary["T"] - summary["recency"]).to_numpy(dtype=float),
            "log_age_days": np.log1p(summary["T"].to_numpy(dtype=float)),
            "log_order_value": np.log1p(summary["monetary_value"].to_numpy(dtype=float)),
        }
    )


@dataclass(frozen=True)
class ChurnModel:
    """Logistic coefficients (None when the fit failed) and holdout AUCs of each churn score."""

    coefficients: dict[str, float] | None
    holdout_auc: dict[str, float]
    n_train: int
    n_test: int
    status: str = "fitted"
    reason: str = ""

    def predict(self, summary: pd.DataFrame) -> np.ndarray:
        """P(no purchase in the next 30 days); null when the regression could not be fitted."""
        if self.coefficients is None:
            return np.full(len(summary), np.nan)
        features = churn_features(summary)
        logit = features[list(self.coefficients)].to_numpy() @ np.array(list(self.coefficients.values()))
        return 1.0 / (1.0 + np.exp(-logit))


def fit_churn_model(
    calibration: pd.DataFrame,
    purchases_next_30d: np.ndarray,
    bgnbd_scores: dict[str, np.ndarray],
    seed: int = 0,
) -> ChurnModel:
    """Fit on half the calibration customers, report AUC on the rest for the regression and each BG/NBD score.

    `bgnbd_scores` maps a name to a churn score (higher = more likely to churn), e.g. 1 - P(alive).
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    churned = np.asarray(purchases_next_30d) == 0
    test = held_out(len(calibration), seed)
    features = churn_features(calibration)
    auc = {name: roc_auc(np.asarray(score)[test], churned[test]) for name, score in bgnbd_scores.items()}
    coefficients, status, reason = None, "fitted", "logistic regression fitted on half the calibration customers"
    train = churned[~test]
    if min(train.sum(), (~train).sum()) < MIN_PER_CLASS:
        status = "too_thin"
        reason = f"too thin for the churn regression: {int(train.sum())} churned, {int((~train).sum())} not"
    else:
        try:
            result = sm.Logit(train.astype(float), features[~test]).fit(disp=0, maxiter=200)
            if not result.mle_retvals.get("converged", False) or not np.all(np.isfinite(result.params)):
                raise ValueError("logistic regression did not converge")
            coefficients = {name: float(value) for name, value in result.params.items()}
        except (ValueError, np.linalg.LinAlgError, PerfectSeparationError) as error:
            status, reason = "no_convergence", f"churn regression not fitted ({error})"
    if coefficients is None:
        warn(f"{reason}; churn tiers rank by {FALLBACK}")
    model = ChurnModel(coefficients, auc, int((~test).sum()), int(test.sum()), status, reason)
    if coefficients is not None:
        model.holdout_auc["logistic_regression"] = roc_auc(model.predict(calibration)[test], churned[test])
    return model

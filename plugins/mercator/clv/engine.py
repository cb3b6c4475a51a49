"""BG/NBD and Gamma-Gamma models: fitting (the only place that imports `lifetimes`) and closed forms.

Fitting runs on the distinct (frequency, recency, T) patterns weighted by how many customers share
each one, which gives the same likelihood as one row per customer at a fraction of the cost.
Predictions are the published closed forms in numpy, taking parameters rather than a fitter, so
the fitting library can be swapped (e.g. for pymc-marketing) without touching scoring.

Fallbacks (each emits a `ClvWarning` and is recorded in `method` and `notes`):
- BG/NBD: too few customers or repeat buyers, no convergence even with a small L2 penalty, or
  non-finite parameters -> `heuristic`: each customer buys at a shrunk historical rate
  rate = (x + rho * tau) / (T + tau) (rho = population repeat rate, tau = 30 days of pseudo-history),
  is alive with probability exp(-rate * (T - recency)), and expects p_alive * rate * t purchases.
- Gamma-Gamma: too few repeat buyers, no convergence, or q <= 1 (population mean spend undefined)
  -> `heuristic`: expected order value (x * m + m_bar) / (x + 1), m_bar the population's mean
  repeat order value.
A fit that only converged with the penalty is kept as `mle_penalized` with a warning.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import betaln, expit, gammaln, hyp2f1

TIME_UNIT_DAYS = {"day": 1.0, "week": 7.0}
PENALIZERS = (0.0, 1e-3, 1e-2)
HEURISTIC_PSEUDO_DAYS = 30.0


class ClvWarning(UserWarning):
    """A CLV model fell back, was penalised, or produced values that had to be guarded."""


def warn(message: str) -> None:
    warnings.warn(message, ClvWarning, stacklevel=3)


@dataclass(frozen=True)
class FitConfig:
    """Time unit of the fitted parameters and the data needed before trusting a fit."""

    time_unit: str = "day"
    min_customers: int = 200
    min_repeat_buyers: int = 50


@dataclass(frozen=True)
class Patterns:
    """Distinct (frequency, recency, T) rows, customer count per row, and each customer's row."""

    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    weight: np.ndarray
    inverse: np.ndarray


def group_patterns(frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> Patterns:
    frame = pd.DataFrame({"x": frequency, "tx": recency, "T": T}, dtype=float)
    inverse = frame.groupby(["x", "tx", "T"], sort=False).ngroup().to_numpy()
    first = np.empty(inverse.max() + 1 if len(inverse) else 0, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]
    rows = frame.to_numpy()[first]
    return Patterns(rows[:, 0], rows[:, 1], rows[:, 2], np.bincount(inverse).astype(float), inverse)


def to_time_unit(days: np.ndarray | float, time_unit: str) -> np.ndarray:
    return np.asarray(days, dtype=float) / TIME_UNIT_DAYS[time_unit]


@dataclass(frozen=True)
class BgNbd:
    """A fitted (or fallen-back) BG/NBD purchase model; time in `time_unit`."""

    params: dict[str, float] | None
    log_params_cov: np.ndarray | None
    log_likelihood: float
    n_customers: int
    n_repeat_buyers: int
    repeat_rate: float
    time_unit: str
    method: str
    notes: tuple[str, ...] = field(default=())

    @property
    def is_fallback(self) -> bool:
        return self.params is None

    def p_alive(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        if self.params is None:
            return np.exp(-self._heuristic_rate(x, T) * (T - tx))
        return bgnbd_p_alive(self.params, x, tx, T)

    def purchases_if_alive(self, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Expected purchases in the next t for a customer alive now; depends on (x, T) only."""
        if self.params is None:
            return self._heuristic_rate(x, T) * t
        return bgnbd_purchases_if_alive(self.params, t, x, T)

    def expected_purchases(self, t: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        return self.p_alive(x, tx, T) * self.purchases_if_alive(t, x, T)

    def p_no_purchase(self, t: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        alive = self.p_alive(x, tx, T)
        if self.params is None:
            return 1.0 - alive + alive * np.exp(-self._heuristic_rate(x, T) * t)
        r, alpha = self.params["r"], self.params["alpha"]
        return 1.0 - alive + alive * ((alpha + T) / (alpha + T + t)) ** (r + x)

    def _heuristic_rate(self, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        tau = HEURISTIC_PSEUDO_DAYS / TIME_UNIT_DAYS[self.time_unit]
        return (x + self.repeat_rate * tau) / (T + tau)


@dataclass(frozen=True)
class GammaGamma:
    """A fitted (or fallen-back) Gamma-Gamma spend model."""

    params: dict[str, float] | None
    log_params_cov: np.ndarray | None
    log_likelihood: float
    n_customers: int
    mean_order_value: float
    frequency_spend_correlation: float
    method: str
    notes: tuple[str, ...] = field(default=())

    @property
    def is_fallback(self) -> bool:
        return self.params is None

    def expected_order_value(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        if self.params is None:
            return (x * m + self.mean_order_value) / (x + 1.0)
        return gamma_gamma_expected_value(self.params, x, m)


def bgnbd_log_likelihood(params: dict[str, float], x, tx, T, weight) -> float:
    """Total BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6) over weighted patterns."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    survive = -(r + x) * np.log(alpha + T)
    drop = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + tx)
    top = np.maximum(survive, drop)
    mixed = top + np.log(np.exp(survive - top) + (x > 0) * np.exp(drop - top))
    return float(np.sum(weight * (common + mixed)))


def bgnbd_p_alive(params: dict[str, float], x, tx, T) -> np.ndarray:
    """P(alive at T | x, tx, T) (Fader, Hardie & Lee, note 021); 1 for customers with no repeats."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    log_odds_dead = (r + x) * np.log((alpha + T) / (alpha + tx)) + np.log(a / (b + np.maximum(x, 1) - 1))
    return np.where(x == 0, 1.0, expit(-log_odds_dead))


def bgnbd_purchases_if_alive(params: dict[str, float], t, x, T) -> np.ndarray:
    """Expected purchases in (T, T + t] for a customer alive at T (eq. 10 without its P(alive) factor)."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    x, z = np.broadcast_arrays(np.atleast_1d(np.asarray(x, dtype=float)), t / (alpha + T + t))
    c = a + b + x - 1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_hyp = np.log(hyp2f1(r + x, b + x, c, z))
        overflow = ~np.isfinite(log_hyp)
        if overflow.any():
            xo, co, zo = x[overflow], c[overflow], z[overflow]
            log_hyp[overflow] = np.log(hyp2f1(co - r - xo, co - b - xo, co, zo)) + (
                co - r - b - 2 * xo
            ) * np.log1p(-zo)
        return c / (a - 1) * -np.expm1(log_hyp + (r + x) * np.log((alpha + T) / (alpha + T + t)))


def bgnbd_p_purchases(params: dict[str, float], t, n: int) -> np.ndarray:
    """P(X(t) = n) for a new customer observed for t (Fader, Hardie & Lee 2005, eq. 8)."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    t = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore"):
        log_share = np.log(t / (alpha + t))
    log_keep = r * np.log(alpha / (alpha + t))

    def log_nbd(j: int) -> np.ndarray:
        """log P(j purchases in t | alive); j * log_share is 0 for j = 0 even at t = 0."""
        return gammaln(r + j) - gammaln(r) - gammaln(j + 1) + log_keep + (j * log_share if j else 0.0)

    first = np.exp(betaln(a, b + n) - betaln(a, b) + log_nbd(n))
    if n == 0:
        return first
    tail = 1.0 - sum(np.exp(log_nbd(j)) for j in range(n))
    return first + np.exp(betaln(a + 1, b + n - 1) - betaln(a, b)) * tail


def gamma_gamma_log_likelihood(params: dict[str, float], x, m, weight) -> float:
    """Total Gamma-Gamma log-likelihood of mean repeat order values (Fader, Hardie & Lee, note 025)."""
    p, q, v = params["p"], params["q"], params["v"]
    ll = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )
    return float(np.sum(weight * ll))


def gamma_gamma_expected_value(params: dict[str, float], x, m) -> np.ndarray:
    """E[order value | x, m]: shrinks the customer's mean towards the population mean (note 025, eq. 5)."""
    p, q, v = params["p"], params["q"], params["v"]
    own_weight = p * x / (p * x + q - 1)
    return (1 - own_weight) * (v * p / (q - 1)) + own_weight * np.where(x > 0, m, 0.0)


def _mle_with_penalty_retries(fit, names: list[str]) -> tuple[dict, np.ndarray | None, str, list[str]]:
    """Fit unpenalised, then with growing L2 penalties; return params, log-param covariance, method, notes."""
    from lifetimes.utils import ConvergenceError

    notes: list[str] = []
    for penalizer in PENALIZERS:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                fitter = fit(penalizer)
        except (ConvergenceError, ValueError, np.linalg.LinAlgError) as error:
            notes.append(f"no convergence with penalizer {penalizer}: {type(error).__name__}")
            continue
        values = fitter.params_[names].to_numpy(dtype=float)
        if not np.all(np.isfinite(values) & (values > 0)):
            notes.append(f"non-finite parameters with penalizer {penalizer}")
            continue
        n = float(np.sum(fitter.data["weights"]))
        with np.errstate(all="ignore"):
            cov = np.linalg.pinv(np.asarray(fitter._hessian_, dtype=float)) / n
        if not np.all(np.isfinite(cov)):
            cov = None
        method = "mle" if penalizer == 0 else "mle_penalized"
        if penalizer:
            notes.append(f"converged only with L2 penalizer {penalizer}: parameters are shrunk")
        return {k: float(v) for k, v in zip(names, values, strict=True)}, cov, method, notes
    return {}, None, "heuristic", notes


def fit_bgnbd(frequency, recency, T, config: FitConfig = FitConfig()) -> BgNbd:
    """Fit BG/NBD on the distinct patterns of per-customer (frequency, recency, T) given in days."""
    from lifetimes import BetaGeoFitter

    x = np.asarray(frequency, dtype=float)
    tx, age = to_time_unit(recency, config.time_unit), to_time_unit(T, config.time_unit)
    patterns = group_patterns(x, tx, age)
    n, n_repeat = len(x), int(np.sum(x > 0))
    repeat_rate = float(np.sum(x) / np.sum(age)) if np.sum(age) > 0 else 0.0
    notes: list[str] = []
    params, cov, method = {}, None, "heuristic"
    if n < config.min_customers or n_repeat < config.min_repeat_buyers:
        notes.append(f"too thin to fit BG/NBD: {n} customers, {n_repeat} repeat buyers")
    else:

        def fit(penalizer: float):
            return BetaGeoFitter(penalizer_coef=penalizer).fit(
                patterns.frequency, patterns.recency, patterns.T, weights=patterns.weight
            )

        params, cov, method, fit_notes = _mle_with_penalty_retries(fit, ["r", "alpha", "a", "b"])
        notes += fit_notes
    if method == "heuristic":
        notes.append("BG/NBD falls back to the shrunk historical purchase-rate heuristic")
    for note in notes:
        warn(f"BG/NBD: {note}")
    log_likelihood = (
        bgnbd_log_likelihood(params, patterns.frequency, patterns.recency, patterns.T, patterns.weight)
        if params
        else float("nan")
    )
    return BgNbd(
        params or None, cov, log_likelihood, n, n_repeat, repeat_rate, config.time_unit, method, tuple(notes)
    )


def fit_gamma_gamma(frequency, monetary_value, config: FitConfig = FitConfig()) -> GammaGamma:
    """Fit Gamma-Gamma on repeat buyers' mean repeat order values, grouped on distinct (x, m)."""
    from lifetimes import GammaGammaFitter

    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary_value, dtype=float)
    repeat = (x > 0) & (m > 0)
    xr, mr = x[repeat], m[repeat]
    mean_value = float(np.sum(xr * mr) / np.sum(xr)) if repeat.any() else 0.0
    correlation = float(np.corrcoef(xr, mr)[0, 1]) if repeat.sum() > 2 and np.ptp(xr) > 0 else float("nan")
    notes: list[str] = []
    if not repeat.any():
        notes.append("no repeat buyer with spend: expected order value is 0")
    params, cov, method = {}, None, "heuristic"
    unique, counts = np.unique(np.column_stack([xr, mr]), axis=0, return_counts=True)
    if repeat.sum() < config.min_repeat_buyers:
        notes.append(f"too thin to fit Gamma-Gamma: {int(repeat.sum())} repeat buyers with spend")
    else:

        def fit(penalizer: float):
            return GammaGammaFitter(penalizer_coef=penalizer).fit(unique[:, 0], unique[:, 1], weights=counts)

        params, cov, method, fit_notes = _mle_with_penalty_retries(fit, ["p", "q", "v"])
        notes += fit_notes
        if params and params["q"] <= 1:
            notes.append(f"q = {params['q']:.3f} <= 1: population mean order value undefined")
            params, cov, method = {}, None, "heuristic"
    if method == "heuristic":
        notes.append("Gamma-Gamma falls back to shrinking each customer's mean towards the population mean")
    for note in notes:
        warn(f"Gamma-Gamma: {note}")
    log_likelihood = (
        gamma_gamma_log_likelihood(params, unique[:, 0], unique[:, 1], counts) if params else float("nan")
    )
    return GammaGamma(
        params or None, cov, log_likelihood, int(repeat.sum()), mean_value, correlation, method, tuple(notes)
    )


def params_table(bgnbd: BgNbd, gamma_gamma: GammaGamma, as_of: str) -> pd.DataFrame:
    """Rows `model, parameter, value, time_unit, as_of, n_customers, log_likelihood`.

    A fallen-back model reports its heuristic's one parameter (`heuristic_repeat_rate`,
    `heuristic_mean_order_value`) with a null log-likelihood.
    """
    bg_values = bgnbd.params or {"heuristic_repeat_rate": bgnbd.repeat_rate}
    gg_values = gamma_gamma.params or {"heuristic_mean_order_value": gamma_gamma.mean_order_value}
    rows = [
        ("bg_nbd", name, value, bgnbd.time_unit, as_of, bgnbd.n_customers, bgnbd.log_likelihood)
        for name, value in bg_values.items()
    ] + [
        ("gamma_gamma", name, value, None, as_of, gamma_gamma.n_customers, gamma_gamma.log_likelihood)
        for name, value in gg_values.items()
    ]
    columns = ["model", "parameter", "value", "time_unit", "as_of", "n_customers", "log_likelihood"]
    return pd.DataFrame(rows, columns=columns)

"""Purchase models (BG/NBD, MBG/NBD, Pareto/NBD) and Gamma-Gamma: fitting (the only place that imports
`lifetimes`) and closed forms.

Fitting runs on the distinct (frequency, recency, T) patterns weighted by how many customers share
each one, which gives the same likelihood as one row per customer at a fraction of the cost.
Predictions are the published closed forms in numpy, taking parameters rather than a fitter, so
the fitting library can be swapped (e.g. for pymc-marketing) without touching scoring. BG/NBD gives
a customer with no repeat purchase P(alive) = 1 whatever their recency; MBG/NBD (Batislam, Denizel &
Filiztekin 2007: drop-out also right after the first purchase) and Pareto/NBD (drop-out at any time)
do not. Pareto/NBD's P(alive) and P(no purchase) come from `lifetimes`' formulas; its fit (Nelder-Mead,
no Hessian in `lifetimes`, ~100 s at 1M customers) runs on a seeded random sample of at most
FitConfig.pareto_max_customers customers (~12 s), stops at FitConfig.max_fit_seconds (status
`timeout`), and its information matrix is a central-difference Hessian of the sample's log-likelihood
(so its standard errors are the sample's).

Every model carries a `status` (`fitted` when all is well; see STATUSES) and the reason in words.
Fallbacks (each emits a `ClvWarning`; `method` is then `heuristic`, `fallback` names it):
- BG/NBD, `shrunk_rate_heuristic`: used when the data are too thin, no customer ever bought twice,
  no customer has any history (all first purchases on the as-of date), no fit converges even with a
  small L2 penalty, or the fit hits a parameter bound (a parameter at the edge of its range or not
  identified by the data). Each customer buys at a shrunk historical rate
  rate = (x + rho * tau) / (T + tau), tau = 30 days of pseudo-history, rho the population's repeat
  rate (sum(x) + 1/2) / (sum(T) + n * tau) (Jeffreys' half purchase and tau days per customer keep it
  finite and positive without history), is alive with probability exp(-rate * (T - recency)), and
  expects p_alive * rate * t purchases.
- Gamma-Gamma, `shrunk_mean_heuristic`: too few repeat buyers, no convergence, a bound hit, or
  q <= 1 (population mean spend undefined): expected order value (x * m + m_bar) / (x + 1), m_bar the
  population's mean repeat order value (the mean first order value when nobody bought twice).
A fit that only converged with the penalty is kept as `mle_penalized`, status `penalized`.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import betaln, expit, gammaln, hyp2f1

TIME_UNIT_DAYS = {"day": 1.0, "week": 7.0}
PENALIZERS = (0.0, 1e-3, 1e-2)
HEURISTIC_PSEUDO_DAYS = 30.0
# A fitted shape parameter outside this range, or a log-parameter whose standard error exceeds
# MAX_LOG_SE (its 90% interval spans more than a factor ~27), means the fit hit a bound.
SHAPE_BOUNDS = (1e-4, 1e4)
MAX_LOG_SE = 2.0
SHAPE_PARAMETERS = {"r", "a", "b", "s", "p", "q"}
BG_NBD, MBG_NBD, PARETO_NBD = "bg_nbd", "mbg_nbd", "pareto_nbd"
# Simplest first: BG/NBD is the published baseline, MBG/NBD adds drop-out after the first purchase,
# Pareto/NBD drop-out in continuous time (and the costliest fit).
PURCHASE_MODELS = (BG_NBD, MBG_NBD, PARETO_NBD)
PURCHASE_PARAMETERS = {BG_NBD: ("r", "alpha", "a", "b"), MBG_NBD: ("r", "alpha", "a", "b"),
                       PARETO_NBD: ("r", "alpha", "s", "beta")}
PURCHASE_MODEL_NAMES = {BG_NBD: "BG/NBD", MBG_NBD: "MBG/NBD", PARETO_NBD: "Pareto/NBD"}
FITTED, PENALIZED = "fitted", "penalized"
STATUSES = {
    FITTED: "fitted by maximum likelihood",
    PENALIZED: "converged only with an L2 penalty: parameters are shrunk",
    "at_bound": "the fit hit a parameter bound",
    "too_thin": "too few customers or repeat buyers to fit",
    "no_repeat_buyers": "no customer bought twice",
    "no_history": "no customer has any history before the as-of date",
    "no_convergence": "no fit converged",
    "undefined_mean": "population mean order value undefined (q <= 1)",
    "timeout": "the fit took longer than its time budget",
}
BG_FALLBACK, GG_FALLBACK = "shrunk_rate_heuristic", "shrunk_mean_heuristic"


class ClvWarning(UserWarning):
    """A CLV model fell back, was penalised, or produced values that had to be guarded."""


def warn(message: str) -> None:
    warnings.warn(message, ClvWarning, stacklevel=3)


@dataclass(frozen=True)
class FitConfig:
    """Time unit of the fitted parameters, the data needed before trusting a fit, and the bounds on
    the slow Pareto/NBD fit (time budget, sample size)."""

    time_unit: str = "day"
    min_customers: int = 200
    min_repeat_buyers: int = 50
    max_fit_seconds: float = 60.0
    pareto_max_customers: int = 100_000


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


class _Model:
    """What BG/NBD and Gamma-Gamma share: fitted `params` with their log-scale covariance, or (params
    None) the named fallback whose one uncertain population parameter is `heuristic_parameter`, with
    its log-variance in the field `<heuristic_parameter>_log_var`."""

    fallback_name: ClassVar[str]
    heuristic_parameter: ClassVar[str]

    @property
    def is_fallback(self) -> bool:
        return self.params is None

    @property
    def fallback(self) -> str | None:
        return self.fallback_name if self.params is None else None

    def uncertainty(self) -> tuple[dict[str, float], np.ndarray | None]:
        """The uncertain parameters and their log-scale covariance."""
        if self.params is None:
            name = self.heuristic_parameter
            return {name: getattr(self, name)}, np.array([[getattr(self, f"{name}_log_var")]])
        return self.params, self.log_params_cov

    def scaled(self, name: str, factor: float):
        """This model with one uncertain parameter multiplied by `factor`."""
        if self.params is None:
            return replace(self, **{name: getattr(self, name) * factor})
        return replace(self, params={**self.params, name: self.params[name] * factor})


@dataclass(frozen=True)
class BgNbd(_Model):
    """A fitted (or fallen-back) purchase model of the BG/NBD family (`model`: bg_nbd, mbg_nbd or
    pareto_nbd); time in `time_unit`."""

    fallback_name: ClassVar[str] = BG_FALLBACK
    heuristic_parameter: ClassVar[str] = "repeat_rate"

    params: dict[str, float] | None
    log_params_cov: np.ndarray | None
    log_likelihood: float
    n_customers: int
    n_repeat_buyers: int
    repeat_rate: float
    time_unit: str
    method: str
    notes: tuple[str, ...] = field(default=())
    status: str = FITTED
    reason: str = ""
    repeat_rate_log_var: float = 0.0
    model: str = BG_NBD

    def p_alive(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        if self.params is None:
            return np.exp(-self._heuristic_rate(x, T) * (T - tx))
        if self.model == PARETO_NBD:
            return _pareto_fitter(self.params).conditional_probability_alive(x, tx, T)
        if self.model == MBG_NBD:
            return mbgnbd_p_alive(self.params, x, tx, T)
        return bgnbd_p_alive(self.params, x, tx, T)

    def purchases_if_alive(self, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Expected purchases in the next t for a customer alive now; depends on (x, T) only."""
        if self.params is None:
            return self._heuristic_rate(x, T) * t
        if self.model == PARETO_NBD:
            return pareto_nbd_purchases_if_alive(self.params, t, x, T)
        if self.model == MBG_NBD:  # MBG/NBD's eq. is BG/NBD's with b + 1 (Batislam et al. 2007, eq. 9)
            return bgnbd_purchases_if_alive({**self.params, "b": self.params["b"] + 1}, t, x, T)
        return bgnbd_purchases_if_alive(self.params, t, x, T)

    def expected_purchases(self, t: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        return self.p_alive(x, tx, T) * self.purchases_if_alive(t, x, T)

    def p_no_purchase(self, t: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        alive = self.p_alive(x, tx, T)
        if self.params is None:
            return 1.0 - alive + alive * np.exp(-self._heuristic_rate(x, T) * t)
        if self.model == PARETO_NBD:
            return _pareto_fitter(self.params).conditional_probability_of_n_purchases_up_to_time(0, t, x, tx, T)
        r, alpha = self.params["r"], self.params["alpha"]
        return 1.0 - alive + alive * ((alpha + T) / (alpha + T + t)) ** (r + x)

    def _heuristic_rate(self, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        tau = HEURISTIC_PSEUDO_DAYS / TIME_UNIT_DAYS[self.time_unit]
        return (x + self.repeat_rate * tau) / (T + tau)


@dataclass(frozen=True)
class GammaGamma(_Model):
    """A fitted (or fallen-back) Gamma-Gamma spend model."""

    fallback_name: ClassVar[str] = GG_FALLBACK
    heuristic_parameter: ClassVar[str] = "mean_order_value"

    params: dict[str, float] | None
    log_params_cov: np.ndarray | None
    log_likelihood: float
    n_customers: int
    mean_order_value: float
    frequency_spend_correlation: float
    method: str
    notes: tuple[str, ...] = field(default=())
    status: str = FITTED
    reason: str = ""
    mean_order_value_log_var: float = 0.0

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


def mbgnbd_log_likelihood(params: dict[str, float], x, tx, T, weight) -> float:
    """Total MBG/NBD log-likelihood (Batislam et al. 2007, eq. 4) over weighted patterns."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1) - betaln(a, b)
    drop_odds = np.log(a) - np.log(b + x) + (r + x) * np.log((alpha + T) / (alpha + tx))
    return float(np.sum(weight * (common - (r + x) * np.log(alpha + T) + np.logaddexp(drop_odds, 0))))


def bgnbd_p_alive(params: dict[str, float], x, tx, T) -> np.ndarray:
    """P(alive at T | x, tx, T) (Fader, Hardie & Lee, note 021); 1 for customers with no repeats."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    log_odds_dead = (r + x) * np.log((alpha + T) / (alpha + tx)) + np.log(a / (b + np.maximum(x, 1) - 1))
    return np.where(x == 0, 1.0, expit(-log_odds_dead))


def mbgnbd_p_alive(params: dict[str, float], x, tx, T) -> np.ndarray:
    """MBG/NBD P(alive at T | x, tx, T) (Batislam et al. 2007): below 1 for customers with no repeats too."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    return expit(-((r + x) * np.log((alpha + T) / (alpha + tx)) + np.log(a / (b + x))))


def pareto_nbd_purchases_if_alive(params: dict[str, float], t, x, T) -> np.ndarray:
    """Pareto/NBD expected purchases in (T, T + t] for a customer alive at T (Fader & Hardie, note 009,
    eq. 41 without its P(alive) factor); the s = 1 limit is the logarithm."""
    r, alpha, s, beta = params["r"], params["alpha"], params["s"], params["beta"]
    log_ratio = np.log1p(t / (beta + T))
    horizon = log_ratio if abs(s - 1) < 1e-9 else -np.expm1(-(s - 1) * log_ratio) / (s - 1)
    return (r + x) * (beta + T) / (alpha + T) * horizon


def _pareto_fitter(params: dict[str, float]):
    """`lifetimes`' Pareto/NBD carrying `params`, for its closed forms."""
    from lifetimes import ParetoNBDFitter

    fitter = ParetoNBDFitter()
    fitter.params_ = pd.Series(params)[list(PURCHASE_PARAMETERS[PARETO_NBD])]
    return fitter


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


@dataclass(frozen=True)
class _Fit:
    params: dict[str, float]
    log_params_cov: np.ndarray | None
    method: str
    status: str
    reason: str
    notes: tuple[str, ...]


def _bound_hit(params: dict[str, float], cov: np.ndarray | None) -> str | None:
    """Why a converged fit is at a bound (a shape parameter at the edge of its range, or a parameter
    the data do not identify), or None."""
    low, high = SHAPE_BOUNDS
    for name, value in params.items():
        if name in SHAPE_PARAMETERS and not low <= value <= high:
            return f"parameter {name} = {value:.3g} outside [{low:g}, {high:g}]"
    if cov is None:
        return "information matrix not invertible"
    variances = np.diag(cov)
    for name, variance in zip(params, variances, strict=True):
        if not variance > 0:
            return f"parameter {name} not identified (information matrix not positive definite)"
        if np.sqrt(variance) > MAX_LOG_SE:
            return f"parameter {name} not identified (standard error of log {name} = {np.sqrt(variance):.3g})"
    return None


def _log_params_cov(fitter) -> np.ndarray | None:
    """Covariance of the log-parameters: the inverse Hessian of the mean negative log-likelihood over n."""
    n = float(np.sum(fitter.data["weights"]))
    hessian = np.asarray(fitter._hessian_, dtype=float)
    if not np.all(np.isfinite(hessian)):
        return None
    eigenvalues = np.linalg.eigvalsh((hessian + hessian.T) / 2)
    if eigenvalues.min() <= 1e-12 * max(abs(eigenvalues.max()), 1e-300):
        return None
    return np.linalg.inv(hessian) / n


class FitTimeout(Exception):
    """A fit ran past its deadline."""


def _mle_with_penalty_retries(fit, names: list[str]) -> _Fit:
    """Fit unpenalised, then with growing L2 penalties; stop at the first converged, finite fit."""
    from lifetimes.utils import ConvergenceError

    notes: list[str] = []
    for penalizer in PENALIZERS:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore", RuntimeWarning)
                fitter = fit(penalizer)
        except FitTimeout as error:
            notes.append(str(error))
            return _Fit({}, None, "heuristic", "timeout", str(error), tuple(notes))
        except (ConvergenceError, ValueError, np.linalg.LinAlgError) as error:
            notes.append(f"no convergence with penalizer {penalizer}: {type(error).__name__}")
            continue
        values = fitter.params_[names].to_numpy(dtype=float)
        if not np.all(np.isfinite(values) & (values > 0)):
            notes.append(f"non-finite parameters with penalizer {penalizer}")
            continue
        params = {k: float(v) for k, v in zip(names, values, strict=True)}
        with np.errstate(all="ignore"):
            cov = _log_params_cov(fitter)
        bound = _bound_hit(params, cov)
        if bound:
            notes.append(f"the fit hit a bound: {bound}")
            return _Fit(params, cov, "heuristic", "at_bound", f"the fit hit a bound: {bound}", tuple(notes))
        if penalizer:
            reason = f"converged only with L2 penalizer {penalizer}: parameters are shrunk"
            notes.append(reason)
            return _Fit(params, cov, "mle_penalized", PENALIZED, reason, tuple(notes))
        return _Fit(params, cov, "mle", FITTED, STATUSES[FITTED], tuple(notes))
    return _Fit({}, None, "heuristic", "no_convergence", "; ".join(notes), tuple(notes))


def _thin(status: str, reason: str) -> _Fit:
    return _Fit({}, None, "heuristic", status, reason, (reason,))


def _pareto_mean_log_likelihood(log_params: np.ndarray, patterns: Patterns) -> float:
    from lifetimes import ParetoNBDFitter

    ll = ParetoNBDFitter._conditional_log_likelihood(np.exp(log_params), patterns.frequency, patterns.recency,
                                                     patterns.T)
    return float(np.sum(patterns.weight * ll) / np.sum(patterns.weight))


def _pareto_hessian(params: dict[str, float], patterns: Patterns, step: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of the mean negative log-likelihood in the log-parameters (what
    `lifetimes` computes with autograd for its other fitters)."""
    centre = np.log([params[name] for name in PURCHASE_PARAMETERS[PARETO_NBD]])
    shifts = np.eye(len(centre)) * step

    def f(*moves: np.ndarray) -> float:
        return -_pareto_mean_log_likelihood(centre + sum(moves), patterns)

    size = len(centre)
    hessian = np.empty((size, size))
    for i, j in itertools.combinations_with_replacement(range(size), 2):
        a, b = shifts[i], shifts[j]
        hessian[i, j] = hessian[j, i] = (f(a, b) - f(a, -b) - f(-a, b) + f(-a, -b)) / (4 * step**2)
    return hessian


def _pareto_sample(x: np.ndarray, tx: np.ndarray, T: np.ndarray, size: int) -> Patterns:
    """The patterns of a seeded random sample of at most `size` customers (all of them when fewer)."""
    if len(x) <= size:
        return group_patterns(x, tx, T)
    keep = np.sort(np.random.default_rng(0).choice(len(x), size, replace=False))
    return group_patterns(x[keep], tx[keep], T[keep])


def _pareto_start(patterns: Patterns) -> np.ndarray:
    """Pareto/NBD's starting point in `lifetimes`' scaled time: MBG/NBD's purchase-rate parameters
    (r, alpha), which the two models share, and s = beta = 1 (lifetimes' own start is random around 1);
    it saves about a third of the Nelder-Mead steps. All ones when MBG/NBD does not fit."""
    from lifetimes import ModifiedBetaGeoFitter
    from lifetimes.utils import ConvergenceError

    try:
        rates = ModifiedBetaGeoFitter().fit(patterns.frequency, patterns.recency, patterns.T, weights=patterns.weight)
    except (ConvergenceError, ValueError, np.linalg.LinAlgError):
        return np.ones(4)
    return np.array([rates.params_["r"], rates.params_["alpha"] * rates._scale, 1.0, 1.0])


def _fitter(model: str, penalizer: float, deadline: float):
    """The `lifetimes` fitter of `model`; Pareto/NBD's raises FitTimeout past `deadline` (monotonic)."""
    from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    if model == BG_NBD:
        return BetaGeoFitter(penalizer_coef=penalizer)
    if model == MBG_NBD:
        return ModifiedBetaGeoFitter(penalizer_coef=penalizer)

    class DeadlineParetoFitter(ParetoNBDFitter):
        def _negative_log_likelihood(self, *args):
            if time.monotonic() > deadline:
                raise FitTimeout("Pareto/NBD fit stopped at its time budget")
            return ParetoNBDFitter._negative_log_likelihood(*args)

    return DeadlineParetoFitter(penalizer_coef=penalizer)


def fit_bgnbd(frequency, recency, T, config: FitConfig = FitConfig()) -> BgNbd:
    """Fit BG/NBD on the distinct patterns of per-customer (frequency, recency, T) given in days."""
    return fit_purchase_model(frequency, recency, T, config, BG_NBD)


def fit_purchase_model(frequency, recency, T, config: FitConfig = FitConfig(), model: str = BG_NBD) -> BgNbd:
    """Fit `model` (one of PURCHASE_MODELS) on the distinct patterns of (frequency, recency, T) in days."""
    label = PURCHASE_MODEL_NAMES[model]
    x = np.asarray(frequency, dtype=float)
    tx, age = to_time_unit(recency, config.time_unit), to_time_unit(T, config.time_unit)
    patterns = group_patterns(x, tx, age)
    n, n_repeat = len(x), int(np.sum(x > 0))
    tau = HEURISTIC_PSEUDO_DAYS / TIME_UNIT_DAYS[config.time_unit]
    repeat_rate = float((np.sum(x) + 0.5) / (np.sum(age) + n * tau)) if n else 0.0
    if n_repeat == 0:
        result = _thin("no_repeat_buyers", f"no repeat buyer among {n} customers")
    elif np.sum(age) == 0:
        result = _thin("no_history", f"all {n} customers made their first purchase on the as-of date")
    elif n < config.min_customers or n_repeat < config.min_repeat_buyers:
        result = _thin("too_thin", f"too thin to fit {label}: {n} customers, {n_repeat} repeat buyers")
    else:
        deadline = time.monotonic() + config.max_fit_seconds

        def fit(penalizer: float):
            if model != PARETO_NBD:
                return _fitter(model, penalizer, deadline).fit(
                    patterns.frequency, patterns.recency, patterns.T, weights=patterns.weight
                )
            sample = _pareto_sample(x, tx, age, config.pareto_max_customers)
            fitter = _fitter(model, penalizer, deadline).fit(
                sample.frequency, sample.recency, sample.T, weights=sample.weight,
                initial_params=_pareto_start(sample),
            )
            fitter._hessian_ = _pareto_hessian(fitter.params_.to_dict(), sample)
            return fitter

        result = _mle_with_penalty_retries(fit, list(PURCHASE_PARAMETERS[model]))
    params = result.params if result.method != "heuristic" else {}
    notes = list(result.notes)
    if not params:
        notes.append(f"{label} falls back to the {BG_FALLBACK}")
    for note in notes:
        warn(f"{label}: {note}")
    log_likelihood = float("nan")
    if params and model == PARETO_NBD:
        log_likelihood = _pareto_mean_log_likelihood(np.log(list(params.values())), patterns) * n
    elif params:
        log_likelihood = (mbgnbd_log_likelihood if model == MBG_NBD else bgnbd_log_likelihood)(
            params, patterns.frequency, patterns.recency, patterns.T, patterns.weight
        )
    return BgNbd(
        params or None,
        result.log_params_cov if params else None,
        log_likelihood,
        n,
        n_repeat,
        repeat_rate,
        config.time_unit,
        result.method,
        tuple(notes),
        result.status,
        result.reason,
        1.0 / (np.sum(x) + 0.5),
        model,
    )


def _pooled_mean(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Weighted mean of per-customer values and the variance of its log (customers as the units)."""
    if not len(values) or np.sum(weights) <= 0:
        return 0.0, 0.0
    mean = float(np.sum(weights * values) / np.sum(weights))
    if mean <= 0:
        return mean, 0.0
    squared_cv = float(np.var(values, ddof=1)) / mean**2 if len(values) > 1 else 1.0
    return mean, squared_cv / len(values)


def fit_gamma_gamma(frequency, monetary_value, config: FitConfig = FitConfig(), first_value=None) -> GammaGamma:
    """Fit Gamma-Gamma on repeat buyers' mean repeat order values, grouped on distinct (x, m).

    `first_value` (each customer's first order value) gives the fallback's mean when nobody bought twice.
    """
    from lifetimes import GammaGammaFitter

    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary_value, dtype=float)
    repeat = (x > 0) & (m > 0)
    xr, mr = x[repeat], m[repeat]
    if repeat.any():
        mean_value, log_var = _pooled_mean(mr, xr)
    elif first_value is not None:
        first = np.asarray(first_value, dtype=float)
        first = first[np.isfinite(first) & (first > 0)]
        mean_value, log_var = _pooled_mean(first, np.ones(len(first)))
    else:
        mean_value, log_var = 0.0, 0.0
    correlation = float(np.corrcoef(xr, mr)[0, 1]) if repeat.sum() > 2 and np.ptp(xr) > 0 else float("nan")
    unique, counts = np.unique(np.column_stack([xr, mr]), axis=0, return_counts=True)
    if not repeat.any():
        result = _thin("no_repeat_buyers", "no repeat buyer with spend")
    elif repeat.sum() < config.min_repeat_buyers:
        result = _thin("too_thin", f"too thin to fit Gamma-Gamma: {int(repeat.sum())} repeat buyers with spend")
    else:

        def fit(penalizer: float):
            return GammaGammaFitter(penalizer_coef=penalizer).fit(unique[:, 0], unique[:, 1], weights=counts)

        result = _mle_with_penalty_retries(fit, ["p", "q", "v"])
        if result.method != "heuristic" and result.params["q"] <= 1:
            reason = f"q = {result.params['q']:.3f} <= 1: population mean order value undefined"
            result = _Fit({}, None, "heuristic", "undefined_mean", reason, (*result.notes, reason))
    params = result.params if result.method != "heuristic" else {}
    notes = list(result.notes)
    if not params:
        notes.append(f"Gamma-Gamma falls back to the {GG_FALLBACK}")
    for note in notes:
        warn(f"Gamma-Gamma: {note}")
    log_likelihood = (
        gamma_gamma_log_likelihood(params, unique[:, 0], unique[:, 1], counts) if params else float("nan")
    )
    return GammaGamma(
        params or None,
        result.log_params_cov if params else None,
        log_likelihood,
        int(repeat.sum()),
        mean_value,
        correlation,
        result.method,
        tuple(notes),
        result.status,
        result.reason,
        log_var,
    )


PARAMS_COLUMNS = [
    "model", "parameter", "method", "value", "time_unit", "as_of", "n_customers", "log_likelihood",
    "status", "status_reason", "fallback",
]


def params_table(bgnbd: BgNbd, gamma_gamma: GammaGamma, as_of: str, *purchase_models: BgNbd) -> pd.DataFrame:
    """One row per model parameter (PARAMS_COLUMNS), with the model's method, status and fallback:
    BG/NBD, any further `purchase_models` (the one chosen for scoring), Gamma-Gamma.

    A fallen-back model reports its heuristic's one parameter (`heuristic_repeat_rate`,
    `heuristic_mean_order_value`) with a null log-likelihood.
    """
    rows = []
    for model, fitted, time_unit, values in (
        *((m.model, m, m.time_unit, m.params or {"heuristic_repeat_rate": m.repeat_rate})
          for m in (bgnbd, *purchase_models)),
        ("gamma_gamma", gamma_gamma, None, gamma_gamma.params
         or {"heuristic_mean_order_value": gamma_gamma.mean_order_value}),
    ):
        rows += [
            (model, name, fitted.method, value, time_unit, as_of, fitted.n_customers, fitted.log_likelihood,
             fitted.status, fitted.reason, fitted.fallback)
            for name, value in values.items()
        ]
    return pd.DataFrame(rows, columns=PARAMS_COLUMNS)

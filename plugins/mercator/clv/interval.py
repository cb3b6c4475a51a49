"""CLV intervals: the delta method on the log scale over the models' parameter uncertainty.

A customer's CLV is the product of a purchase part D (P(alive) times the discounted purchases if
alive, from BG/NBD) and an order value V (from Gamma-Gamma), so log CLV = log D + log V. With
g the gradient of log D with respect to BG/NBD's log-parameters and S their covariance (the inverse
observed information of the fit), and h, R the same for Gamma-Gamma (fitted separately, hence
independent), the standard error of log CLV is se = sqrt(g'Sg + h'Rh), and the interval is
CLV * exp(-z * se) .. CLV * exp(z * se), z the normal quantile of the coverage. It always contains
the point estimate, at its geometric centre. Gradients are central differences in the
log-parameters, computed once per distinct history.

What it covers: each customer's expected CLV given their history under the true parameters (the
estimation error of the population parameters, not the randomness of the customer's own future
purchases). In simulation from the models' generator (mercator.clv.simulate) the 90% interval
covers the true expected CLV for about 90% of customers (tests/mercator/clv/test_interval_coverage.py).
A fallen-back model's uncertainty is that of its heuristic's one population parameter (repeat rate:
Poisson, var(log) = 1 / (purchases + 1/2); mean order value: var(log) = CV^2 / n); the heuristics are
not generative models, so no coverage is claimed for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import norm

from mercator.clv.engine import BgNbd, GammaGamma, warn

if TYPE_CHECKING:
    from mercator.clv.score import Histories

LOG_STEP = 1e-4


def _log(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(values)


def _delta_variance(model, log_value: Callable[[object], np.ndarray]) -> np.ndarray:
    """g' S g per row: g the central-difference gradient of `log_value` in the model's log-parameters
    (0 for parameters given without a covariance, i.e. taken as known)."""
    params, cov = model.uncertainty()
    if cov is None:
        return np.zeros_like(log_value(model))
    gradients = []
    for name in params:
        up = log_value(model.scaled(name, np.exp(LOG_STEP)))
        down = log_value(model.scaled(name, np.exp(-LOG_STEP)))
        gradients.append((up - down) / (2 * LOG_STEP))
    g = np.column_stack(gradients)
    return np.einsum("ij,jk,ik->i", g, cov, g)


def clv_interval(
    clv: np.ndarray,
    bgnbd: BgNbd,
    gamma_gamma: GammaGamma,
    h: Histories,
    discounted_if_alive: Callable[[BgNbd], np.ndarray],
    coverage: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends of each customer's CLV interval (see the module docstring)."""

    def log_purchases(model: BgNbd) -> np.ndarray:
        """log D per distinct (frequency, recency, T) pattern."""
        alive = model.p_alive(h.pattern_x, h.pattern_tx, h.pattern_T)
        return _log(alive) + _log(discounted_if_alive(model))[h.pair_of_pattern]

    def log_order_value(model: GammaGamma) -> np.ndarray:
        return _log(model.expected_order_value(h.x, h.m))

    variance = _delta_variance(bgnbd, log_purchases)[h.pattern] + _delta_variance(gamma_gamma, log_order_value)
    clv = np.asarray(clv, dtype=float)
    positive = clv > 0
    unknown = positive & ~(np.isfinite(variance) & (variance >= 0))
    if unknown.any():
        warn(f"{unknown.sum()} CLV intervals without a finite standard error: the point estimate alone")
    spread = np.exp(norm.ppf(0.5 + coverage / 2) * np.sqrt(np.where(unknown | ~positive, 0.0, variance)))
    return clv / spread, clv * spread

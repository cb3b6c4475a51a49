"""The stochastic processes behind the demo: buy-till-you-die purchases, spend, journeys."""

from __future__ import annotations

import bisect
import functools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from mercator.demo.params import DemoParams

MAX_PURCHASES = 500
T = TypeVar("T")


@dataclass(frozen=True)
class PurchaseHistory:
    """MBG/NBD draws for one customer and the purchase times they produce (days since window start)."""

    rate: float
    dropout: float
    times: list[float]
    next_time: float | None  # the first purchase after the window if still alive, else None


def purchase_history(rng: random.Random, params: DemoParams, acquired_at: float) -> PurchaseHistory:
    """First purchase at acquisition; Exponential(rate) gaps; dies with prob. `dropout` after every purchase.

    The first purchase included (MBG/NBD, Batislam et al. 2007): a one-time buyer may be gone, as in
    any shop, where BG/NBD would keep every one-time buyer alive for ever.
    """
    rate = rng.gammavariate(params.bgnbd_r, 1.0 / params.bgnbd_alpha)
    dropout = rng.betavariate(params.bgnbd_a, params.bgnbd_b)
    times, t = [acquired_at], acquired_at
    while len(times) < MAX_PURCHASES and rng.random() >= dropout:
        t += rng.expovariate(rate) if rate > 0 else math.inf
        if t >= params.window_days:
            return PurchaseHistory(rate, dropout, times, t if math.isfinite(t) else None)
        times.append(t)
    return PurchaseHistory(rate, dropout, times, None)


def spend_scale(rng: random.Random, params: DemoParams) -> float:
    """Gamma-Gamma: the person's nu ~ Gamma(q, rate gamma)."""
    return rng.gammavariate(params.gg_q, 1.0 / params.gg_gamma)


def order_value_cents(rng: random.Random, params: DemoParams, nu: float) -> int:
    """Gross order value ~ Gamma(p, rate nu), in cents (at least one dollar)."""
    return max(100, round(rng.gammavariate(params.gg_p, 1.0 / nu) * 100))


def split_cents(rng: random.Random, total: int) -> list[tuple[int, int]]:
    """Order lines (quantity, unit price in cents) whose quantity * price sums exactly to total."""
    lines = min(1 + min(4, int(rng.expovariate(1.4))), 1 + total // 1500)
    weights = [0.5 + rng.random() for _ in range(lines)]
    shares = [total * w // sum(weights) for w in weights]
    shares[-1] = total - sum(shares[:-1])
    result = []
    for share in map(int, shares):
        if share % 2 == 0 and share >= 400 and rng.random() < 0.2:
            result.append((2, share // 2))
        else:
            result.append((1, share))
    return result


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """A uniform choice (as rng.choice, with one float draw instead of rejection-sampled bits)."""
    return options[int(rng.random() * len(options))]


def weighted(rng: random.Random, options: Sequence[T], cumulative: Sequence[float]) -> T:
    """A choice by cumulative weights (as rng.choices(options, cum_weights=cumulative)[0])."""
    return options[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def uniform_int(rng: random.Random, low: int, high: int) -> int:
    """An integer uniform on low..high (as rng.randint, from one float draw)."""
    return low + int(rng.random() * (high - low + 1))


def sample_journey(
    rng: random.Random, params: DemoParams, available: list[str], cumulative: list[float]
) -> list[str]:
    """Channels of one journey: 1 + Poisson(extra) touchpoints drawn by exposure (cumulative weights)
    among available channels,
    then, with probability `direct_return_share`, a closing Direct return visit (typed-in address)."""
    random_, total = rng.random, cumulative[-1]
    path = [
        available[bisect.bisect(cumulative, random_() * total)]
        for _ in range(1 + poisson_small(rng, params.journey_extra_touch_mean))
    ]
    if random_() < params.direct_return_share:
        path.append("Direct")
    return path


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def poisson(rng: random.Random, mean: float) -> int:
    """Poisson draw (Knuth for small means, normal approximation above 30)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    return _poisson(rng, mean)


@functools.cache
def _poisson_cdf(mean: float) -> tuple[float, ...]:
    cdf, term, k = [], math.exp(-mean), 0
    while not cdf or cdf[-1] < 1 - 1e-12:
        cdf.append((cdf[-1] if cdf else 0.0) + term)
        k += 1
        term *= mean / k
    return tuple(cdf)


def poisson_small(rng: random.Random, mean: float) -> int:
    """Poisson draw for one of a few fixed small means: its CDF inverted at one uniform (tables cached)."""
    return bisect.bisect(_poisson_cdf(mean), rng.random())

"""Synthetic `attribution_paths` from a known first-order journey chain, for tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANNELS = (
    "paid_search",
    "organic_search",
    "email",
    "sms",
    "paid_social",
    "organic_social",
    "display",
    "affiliate",
    "referral",
    "direct",
    "push",
    "video",
)


def simulate_paths(
    n_customers: int, n_channels: int = 8, seed: int = 0, max_touches: int = 20
) -> pd.DataFrame:
    """Journeys of `n_customers`, aggregated into distinct paths with their counts.

    Each channel has its own chance to convert (1-12 %) or drop out (20-45 %) after a touch and
    otherwise moves to a next channel; journeys longer than `max_touches` end unconverted. A
    conversion's value is log-normal with a mean that depends on the converting channel.
    """
    if not 1 <= n_channels <= len(CHANNELS):
        raise ValueError(f"n_channels must be in 1..{len(CHANNELS)}")
    rng = np.random.default_rng(seed)
    convert = rng.uniform(0.01, 0.12, n_channels)
    drop = rng.uniform(0.20, 0.45, n_channels)
    moves = rng.dirichlet(np.full(n_channels, 0.6), n_channels) * (1 - convert - drop)[:, None]
    cumulative = np.cumsum(np.column_stack([moves, convert, drop]), axis=1)
    state = rng.choice(n_channels, n_customers, p=rng.dirichlet(np.full(n_channels, 2.0)))
    touches = np.zeros((n_customers, max_touches), dtype=np.uint8)
    outcome = np.full(n_customers, n_channels + 1)
    last = np.zeros(n_customers, dtype=np.int64)
    active = np.arange(n_customers)
    for step in range(max_touches):
        touches[active, step] = state + 1
        last[active] = state
        draw = (cumulative[state] < rng.random(len(active))[:, None]).sum(axis=1)
        ended = draw >= n_channels
        outcome[active[ended]] = draw[ended]
        active, state = active[~ended], draw[~ended]
    converted = outcome == n_channels
    value = np.where(converted, rng.lognormal(np.log(40 + 10 * last), 0.5), 0.0)
    return _aggregate(touches, converted, value, CHANNELS[:n_channels])


def _aggregate(
    touches: np.ndarray, converted: np.ndarray, value: np.ndarray, names: tuple[str, ...]
) -> pd.DataFrame:
    rows = np.ascontiguousarray(touches).view(np.dtype((np.void, touches.shape[1]))).ravel()
    distinct, path = np.unique(rows, return_inverse=True)
    labels = np.array(("",) + names, dtype=object)
    codes = distinct.view(np.uint8).reshape(len(distinct), -1)
    strings = [" > ".join(labels[row[row > 0]]) for row in codes]
    conversions = np.bincount(path, weights=converted, minlength=len(distinct))
    return pd.DataFrame(
        {
            "path": strings,
            "conversions": conversions.astype(np.int64),
            "non_conversions": (np.bincount(path, minlength=len(distinct)) - conversions).astype(np.int64),
            "conversion_value": np.round(np.bincount(path, weights=value, minlength=len(distinct)), 2),
        }
    )

"""Channel credits in one shape for every model, summing to the attributed totals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mercator.attribution.paths import PathTable

CREDIT_COLUMNS = ("model", "channel", "conversions", "revenue")


def apportion(weights: np.ndarray, total: float) -> np.ndarray:
    """Split `total` in proportion to non-negative `weights`; the parts add up to `total`.

    The floating-point remainder goes to the largest part, so the sum is exact to the last bit
    that summation order allows. All-zero weights get nothing (there is nothing to credit).
    """
    weights = np.asarray(weights, dtype=float)
    weight_sum = weights.sum()
    if weight_sum <= 0:
        return np.zeros_like(weights)
    parts = weights / weight_sum * total
    parts[np.argmax(parts)] += total - parts.sum()
    return parts


def credit_frame(
    model: str,
    channels: Sequence[str],
    conversion_weights: np.ndarray,
    value_weights: np.ndarray,
    paths: PathTable,
) -> pd.DataFrame:
    """Credits of one model: weights scaled to the paths' total conversions and total value."""
    return pd.DataFrame(
        {
            "model": model,
            "channel": list(channels),
            "conversions": apportion(conversion_weights, paths.total_conversions),
            "revenue": apportion(value_weights, paths.total_value),
        },
        columns=list(CREDIT_COLUMNS),
    )


def allocate_to_paths(
    paths: PathTable, conversion_weights: np.ndarray, value_weights: np.ndarray
) -> pd.DataFrame:
    """Split each path's conversions and value over its distinct channels by channel weight.

    Rule: channel `c` of path `p` gets `conversions[p] * w[c] / sum(w[d] for d in channels(p))`
    (value likewise with the value weights). Each path's parts add up to its own conversions and
    value, so per-order credits follow by dividing by the path's conversions. With equal weights
    this is the Shapley split (see `shapley`); with Markov removal effects the channel sums stay
    close to, but are not forced onto, the model's channel credits.
    Returns one row per (path, channel): `row` (the input frame's index label), `channel`,
    `conversions`, `revenue`.
    """
    n_channels = len(paths.channels)
    pair = np.unique(paths.path_of_touch * n_channels + paths.touches)
    path, channel = np.divmod(pair, n_channels)
    conversion_share = _share_within_path(path, np.asarray(conversion_weights, dtype=float)[channel])
    value_share = _share_within_path(path, np.asarray(value_weights, dtype=float)[channel])
    return pd.DataFrame(
        {
            "row": paths.rows[path],
            "channel": np.asarray(paths.channels, dtype=object)[channel],
            "conversions": paths.conversions[path] * conversion_share,
            "revenue": paths.value[path] * value_share,
        }
    )


def _share_within_path(path: np.ndarray, weight: np.ndarray) -> np.ndarray:
    path_total = np.bincount(path, weights=weight)[path]
    return np.divide(weight, path_total, out=np.zeros_like(weight), where=path_total > 0)


def fit_allocation_weights(
    paths: PathTable, channel_totals: np.ndarray, amounts: np.ndarray, iterations: int = 500, tol: float = 1e-9
) -> np.ndarray:
    """Channel weights whose per-path split (`allocate_to_paths`) adds up to `channel_totals`.

    Raking: start from the totals and rescale each channel's weight by target / allocated until
    every channel's allocated sum is within `tol` (relative) of its target. `amounts` is each
    path's conversions (or value). A channel with no target gets weight zero. Targets that no split
    can reach (more than the paths holding the channel) leave the closest weights found.
    """
    targets = np.asarray(channel_totals, dtype=float)
    n_channels = len(paths.channels)
    pair = np.unique(paths.path_of_touch * n_channels + paths.touches)
    path, channel = np.divmod(pair, n_channels)
    weights = targets.copy()
    for _ in range(iterations):
        allocated = np.bincount(
            channel, weights=amounts[path] * _share_within_path(path, weights[channel]), minlength=n_channels
        )
        reached = np.divide(targets, allocated, out=np.zeros(n_channels), where=allocated > 0)
        if np.all(np.abs(allocated - targets) <= tol * max(targets.sum(), 1.0)):
            break
        weights = weights * reached
        weights = weights / max(weights.max(), 1e-300)
    return weights

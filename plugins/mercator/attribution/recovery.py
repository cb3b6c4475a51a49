"""How well attribution recovers known channel effects (demo data: truth/params.json).

The demo converts a journey with probability `1 - (1 - baseline) * prod(1 - effect[c])` over its
touchpoints. The true credit of a path is its expected conversions above the baseline, split among
its channels by the Shapley value of that function (a channel's touches enter or leave together),
weighted by the path's journeys. A model recovers the effects well when its channel shares are
close to these true shares: `share_distance` is the L1 distance between share vectors (0 = equal,
2 = disjoint).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from mercator.attribution.paths import parse_paths
from mercator.attribution.shapley import shapley_values


def true_channel_shares(paths: pd.DataFrame, effects: Mapping[str, float], baseline: float) -> pd.Series:
    """True share of each channel of `paths` (an attribution_paths frame); unknown channels have no effect."""
    table = parse_paths(paths)
    n_channels = len(table.channels)
    log_miss = np.log1p(-np.array([effects.get(name, 0.0) for name in table.channels]))
    counts = np.zeros((table.n_paths, n_channels))
    np.add.at(counts, (table.path_of_touch, table.touches), 1.0)
    journeys = table.conversions + table.non_conversions
    credit = np.zeros(n_channels)
    for touch_counts, weight in _distinct_rows(counts, journeys):
        present = np.flatnonzero(touch_counts)
        logs = touch_counts[present] * log_miss[present]
        members = (np.arange(2 ** len(present))[:, None] >> np.arange(len(present))) & 1
        lift = (1 - baseline) * (1 - np.exp(members @ logs))
        credit[present] += weight * shapley_values(lift)
    return pd.Series(credit / credit.sum(), index=list(table.channels))


def share_distance(shares: pd.Series, truth: pd.Series) -> float:
    """L1 distance between two share vectors over the union of their channels."""
    left, right = shares.align(truth, fill_value=0.0)
    return float((left / left.sum() - right / right.sum()).abs().sum())


def _distinct_rows(counts: np.ndarray, weights: np.ndarray):
    rows, inverse = np.unique(counts, axis=0, return_inverse=True)
    totals = np.bincount(inverse.ravel(), weights=weights, minlength=len(rows))
    return zip(rows, totals, strict=True)

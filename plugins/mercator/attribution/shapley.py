"""Shapley-value attribution over channel coalitions, exact with bitmasks.

The game: the worth of a coalition `S` of channels is the conversions (or value) of the journeys
whose set of channels is contained in `S`, `v(S) = sum(w[T] for T subset of S)`, where `w[T]` is the
total of the paths whose distinct channels are exactly `T` (the "simplified Shapley value" of
Zhao et al. 2018). Order and repeats inside a path do not matter; journeys without conversions add
nothing. `v(all channels)` is the total, so the values sum to it (efficiency).

`v` is a sum of unanimity games, so each path's total is shared equally among its distinct
channels; `credits.allocate_to_paths` with equal weights is therefore the per-path form of these
credits. The computation here goes through the coalition function itself (zeta transform, then
the Shapley formula over all `2**n` coalitions), which keeps it a Shapley value of the stated game.
"""

from __future__ import annotations

from math import factorial

import numpy as np
import pandas as pd

from mercator.attribution.credits import credit_frame
from mercator.attribution.paths import PathTable, channel_sets

MAX_CHANNELS = 20


def coalition_values(masks: np.ndarray, weights: np.ndarray, n_players: int) -> np.ndarray:
    """`v[S] = sum(weights[i] for masks[i] subset of S)` for every coalition bitmask `S`."""
    values = np.bincount(masks, weights=weights, minlength=2**n_players).astype(float)
    for player in range(n_players):
        halves = values.reshape(-1, 2, 2**player)
        halves[:, 1, :] += halves[:, 0, :]
    return values


def shapley_values(values: np.ndarray) -> np.ndarray:
    """Exact Shapley values of the game `values[S]` given for every coalition bitmask `S`."""
    n_players = int(len(values)).bit_length() - 1
    if len(values) != 2**n_players:
        raise ValueError("a game needs one value per coalition (2**n of them)")
    coalitions = np.arange(len(values), dtype=np.int64)
    size_weight = np.array(
        [factorial(s) * factorial(n_players - s - 1) / factorial(n_players) for s in range(n_players)]
    )
    sizes = np.bitwise_count(coalitions)
    result = np.empty(n_players)
    for player in range(n_players):
        bit = np.int64(1) << player
        without = coalitions[(coalitions & bit) == 0]
        marginal = values[without | bit] - values[without]
        result[player] = np.dot(size_weight[sizes[without]], marginal)
    return result


def shapley_attribution(paths: PathTable) -> pd.DataFrame:
    """Shapley credits of conversions and revenue per channel."""
    n_channels = len(paths.channels)
    if n_channels > MAX_CHANNELS:
        raise ValueError(f"exact Shapley over {n_channels} channels needs 2**{n_channels} coalitions")
    masks = channel_sets(paths)
    conversions = shapley_values(coalition_values(masks, paths.conversions, n_channels))
    value = shapley_values(coalition_values(masks, paths.value, n_channels))
    return credit_frame("shapley", paths.channels, conversions, value, paths)

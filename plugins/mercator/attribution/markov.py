"""Markov-chain attribution by removal effects, solved exactly on distinct paths.

The chain (as in ChannelAttribution's `markov_model`): a state is the last `order` channels
touched (a shorter path is one state); every path runs `(start) -> states... -> (conversion) |
(null)`. Transition probabilities are the path-count-weighted transition frequencies.
P(conversion) is the absorption probability of the chain started at `(start)`, from one linear
solve `(I - Q) x = r`, with no simulation. A repeated
state (`a > a`) is a self-loop, which leaves absorption probabilities unchanged, so the result is
the same as ChannelAttribution's, which collapses such repeats.

Removing channel `c` sends every state containing `c` to `(null)`; its removal effect is
`1 - P_without_c / P`, the share of converting journeys that pass through `c`. Channel credits
are removal effects normalised to shares of the total conversions.

Revenue uses the same chain with a value reward: a journey converting from state `s` earns the
mean value per conversion of the paths ending in `s` (what ChannelAttribution draws from), so the
value removal effect is the share of expected converted value passing through `c`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.linalg import splu

from mercator.attribution.credits import credit_frame
from mercator.attribution.paths import PathTable


@dataclass(frozen=True)
class MarkovChain:
    """Transient states (0 = start), transitions among them and rewards on conversion."""

    transitions: sparse.csr_matrix
    conversion: np.ndarray
    value: np.ndarray
    state_channels: np.ndarray


@dataclass(frozen=True)
class MarkovResult:
    channels: tuple[str, ...]
    order: int
    conversion_probability: float
    removal_effects: np.ndarray
    value_removal_effects: np.ndarray
    credits: pd.DataFrame


def build_chain(paths: PathTable, order: int = 1) -> MarkovChain:
    """Estimate the order-`order` chain from path counts."""
    if order < 1:
        raise ValueError("order must be >= 1")
    keys, path = _window_keys(paths, order)
    state_keys, state = np.unique(keys, return_inverse=True)
    state = state.astype(np.int64) + 1
    starts_path = np.r_[True, path[1:] != path[:-1]]
    previous = np.where(starts_path, 0, np.r_[0, state[:-1]])
    last = state[np.r_[starts_path[1:], True]]
    journeys = paths.conversions + paths.non_conversions
    n_states = len(state_keys) + 1
    counts = sparse.csr_matrix((journeys[path], (previous, state)), shape=(n_states, n_states))
    outflow = np.bincount(previous, weights=journeys[path], minlength=n_states)
    outflow += np.bincount(last, weights=journeys, minlength=n_states)
    inverse_outflow = np.divide(1.0, outflow, out=np.zeros(n_states), where=outflow > 0)
    return MarkovChain(
        transitions=sparse.diags(inverse_outflow).tocsr() @ counts,
        conversion=np.bincount(last, weights=paths.conversions, minlength=n_states) * inverse_outflow,
        value=np.bincount(last, weights=paths.value, minlength=n_states) * inverse_outflow,
        state_channels=_state_channels(state_keys, len(paths.channels), order),
    )


def absorption(chain: MarkovChain, removed: np.ndarray | None = None) -> np.ndarray:
    """P(conversion) and expected converted value from `(start)`, with `removed` states sent to null."""
    keep = np.ones(len(chain.conversion), dtype=bool) if removed is None else ~removed
    q = chain.transitions[keep][:, keep]
    rewards = np.column_stack([chain.conversion[keep], chain.value[keep]])
    system = sparse.identity(q.shape[0], format="csc") - q.tocsc()
    return splu(system).solve(rewards)[0]


def markov_attribution(paths: PathTable, order: int = 1) -> MarkovResult:
    """Removal-effect attribution of conversions and revenue to channels."""
    chain = build_chain(paths, order)
    base = absorption(chain)
    without = np.array([absorption(chain, chain.state_channels[:, c]) for c in range(len(paths.channels))])
    kept_share = np.divide(without, base, out=np.ones_like(without), where=base > 0)
    effects = np.clip(1.0 - kept_share, 0.0, None).reshape(-1, 2)
    model = "markov" if order == 1 else f"markov_order_{order}"
    return MarkovResult(
        channels=paths.channels,
        order=order,
        conversion_probability=float(base[0]),
        removal_effects=effects[:, 0],
        value_removal_effects=effects[:, 1],
        credits=credit_frame(model, paths.channels, effects[:, 0], effects[:, 1], paths),
    )


def _window_keys(paths: PathTable, order: int) -> tuple[np.ndarray, np.ndarray]:
    base = len(paths.channels) + 1
    if base**order >= 2**62:
        raise ValueError(f"order {order} with {base - 1} channels overflows the state key")
    lengths = paths.lengths
    windows = np.maximum(lengths - order + 1, 1)
    path = np.repeat(np.arange(paths.n_paths), windows)
    start = np.arange(len(path)) - np.repeat(np.cumsum(windows) - windows, windows)
    keys = np.zeros(len(path), dtype=np.int64)
    for step in range(order):
        inside = start + step < lengths[path]
        position = np.where(inside, paths.offsets[path] + start + step, 0)
        keys = keys * base + np.where(inside, paths.touches[position] + 1, 0)
    return keys, path


def _state_channels(state_keys: np.ndarray, n_channels: int, order: int) -> np.ndarray:
    """Boolean (state x channel) membership; row 0 is `(start)`, which holds no channel."""
    base = n_channels + 1
    members = np.zeros((len(state_keys) + 1, base), dtype=bool)
    for step in range(order):
        digit = state_keys // base ** (order - 1 - step) % base
        members[np.arange(1, len(state_keys) + 1), digit] = True
    return members[:, 1:]

"""Distinct conversion paths with their counts, parsed into integer channel codes.

Input is the `attribution_paths` shape: one row per distinct path, `path` = channel names in time
order joined by `' > '`, `conversions`, `non_conversions`, `conversion_value`. Every model works on
these distinct paths and weights them by their counts, so cost grows with the number of distinct
paths, not with customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd

PATH_COLUMNS = ("path", "conversions", "non_conversions", "conversion_value")
SEPARATOR = ">"


@dataclass(frozen=True)
class PathTable:
    """Paths as flat arrays: the touches of path `i` are `touches[offsets[i]:offsets[i + 1]]`.

    Only paths with at least one channel and at least one journey are kept; `rows` holds their
    index labels in the input frame and `channels[c]` names code `c`, in order of first appearance.
    """

    channels: tuple[str, ...]
    rows: np.ndarray
    offsets: np.ndarray
    touches: np.ndarray
    conversions: np.ndarray
    non_conversions: np.ndarray
    value: np.ndarray

    @property
    def n_paths(self) -> int:
        return len(self.conversions)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def path_of_touch(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_paths), self.lengths)

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        return float(self.value.sum())


def parse_paths(frame: pd.DataFrame, sep: str = SEPARATOR) -> PathTable:
    """Parse an `attribution_paths` frame; channel names are split on `sep` and stripped.

    Rows with an empty path or no journeys cannot be attributed and are dropped.
    """
    missing = set(PATH_COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"attribution paths lack columns {sorted(missing)}")
    labels = frame.index.to_numpy()
    frame = frame.reset_index(drop=True)
    conversions = frame["conversions"].to_numpy(dtype=float)
    non_conversions = frame["non_conversions"].to_numpy(dtype=float)
    value = frame["conversion_value"].fillna(0).to_numpy(dtype=float)
    row, name_code, names = _touches(frame["path"], sep)
    lengths = np.bincount(row, minlength=len(frame))
    keep = (lengths > 0) & (conversions + non_conversions > 0)
    codes, used = pd.factorize(name_code[keep[row]])
    kept_lengths = lengths[keep]
    return PathTable(
        channels=tuple(names[used]),
        rows=labels[keep],
        offsets=np.concatenate([[0], np.cumsum(kept_lengths)]).astype(np.int64),
        touches=codes.astype(np.int64),
        conversions=conversions[keep],
        non_conversions=non_conversions[keep],
        value=value[keep],
    )


def channel_sets(paths: PathTable) -> np.ndarray:
    """Bitmask of the distinct channels of each path (bit `c` set when channel `c` occurs)."""
    if len(paths.channels) > 62:
        raise ValueError("channel bitmasks hold at most 62 channels")
    bits = np.left_shift(np.int64(1), paths.touches)
    masks = np.zeros(paths.n_paths, dtype=np.int64)
    np.bitwise_or.at(masks, paths.path_of_touch, bits)
    return masks


def _touches(path: pd.Series, sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row number and name code of every non-blank touch in path order, and the names by code.

    Tokens are stripped once per distinct spelling, not once per touch.
    """
    tokens = [text.split(sep) for text in path.fillna("").astype(str).tolist()]
    row = np.repeat(np.arange(len(tokens)), np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)))
    spelling, spellings = pd.factorize(np.array(list(chain.from_iterable(tokens)), dtype=object))
    name_of_spelling, names = pd.factorize(
        np.array([str(token).strip() for token in spellings], dtype=object)
    )
    name_code = name_of_spelling[spelling]
    named = names[name_code] != ""
    return row[named], name_code[named], np.asarray(names, dtype=object)

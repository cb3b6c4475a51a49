"""Data-driven attribution of conversions and revenue to channels, on distinct paths with counts.

`attribute_paths(frame)` returns one row per (model, channel) with `conversions` and `revenue`;
for every model they sum to the attributed conversions and value (paths with at least one channel).
"""

from __future__ import annotations

import pandas as pd

from mercator.attribution.credits import CREDIT_COLUMNS, allocate_to_paths
from mercator.attribution.markov import MarkovResult, markov_attribution
from mercator.attribution.paths import PathTable, parse_paths
from mercator.attribution.shapley import shapley_attribution

__all__ = [
    "CREDIT_COLUMNS",
    "MarkovResult",
    "PathTable",
    "allocate_to_paths",
    "attribute_paths",
    "markov_attribution",
    "parse_paths",
    "shapley_attribution",
]


def attribute_paths(frame: pd.DataFrame, markov_orders: tuple[int, ...] = (1,)) -> pd.DataFrame:
    """Markov (each order in `markov_orders`) and Shapley credits of an `attribution_paths` frame."""
    paths = parse_paths(frame)
    markov = [markov_attribution(paths, order).credits for order in markov_orders]
    return pd.concat([*markov, shapley_attribution(paths)], ignore_index=True)

"""Data-driven attribution in the warehouse: marts.attribution_paths in, ml.attribution_channel_credits out.

The paths mart holds distinct paths with their counts, so the frame read here stays small whatever
the number of customers. Besides each model's channel credits, the table holds allocation weights
fitted so that dbt's per-order split (`allocate_to_paths`, in SQL) adds up to those credits.
"""

from __future__ import annotations

import pandas as pd

from mercator.attribution import CREDIT_COLUMNS, attribute_paths, parse_paths
from mercator.attribution.credits import fit_allocation_weights
from mercator.engine import Engine

PATHS_TABLE = "marts.attribution_paths"
CREDITS_TABLE = "ml.attribution_channel_credits"
MARKOV_ORDERS = (1, 2)
COLUMNS = (*CREDIT_COLUMNS, "conversion_weight", "revenue_weight")


def read_paths(engine: Engine) -> pd.DataFrame:
    return engine.read_frame(
        f"select path, conversions, non_conversions, conversion_value from {PATHS_TABLE} order by path"
    )


def channel_credits(paths: pd.DataFrame, markov_orders: tuple[int, ...] = MARKOV_ORDERS) -> pd.DataFrame:
    """Markov (each order) and Shapley credits per channel with their allocation weights.

    Empty when no path has a channel.
    """
    if not (paths["path"].fillna("").str.strip() != "").any():
        return pd.DataFrame(columns=list(COLUMNS))
    table = parse_paths(paths)
    parts = []
    for model, credits in attribute_paths(paths, markov_orders).groupby("model", sort=False):
        credits = credits.set_index("channel").loc[list(table.channels)].reset_index()
        parts.append(
            credits.assign(
                model=model,
                conversion_weight=fit_allocation_weights(table, credits["conversions"], table.conversions),
                revenue_weight=fit_allocation_weights(table, credits["revenue"], table.value),
            )
        )
    return pd.concat(parts, ignore_index=True)[list(COLUMNS)]


def write_credits(engine: Engine, credits: pd.DataFrame) -> None:
    types = {"model": "string", "channel": "string"} | {name: "double" for name in COLUMNS[2:]}
    engine.write_frames({CREDITS_TABLE: (credits, types)})


def attribute_warehouse(engine: Engine) -> dict:
    """Compute and store the data-driven channel credits; returns a small summary."""
    paths = read_paths(engine)
    credits = channel_credits(paths)
    write_credits(engine, credits)
    return {
        "distinct_paths": len(paths),
        "conversions": int(paths["conversions"].sum()) if len(paths) else 0,
        "models": sorted(credits["model"].unique().tolist()),
    }

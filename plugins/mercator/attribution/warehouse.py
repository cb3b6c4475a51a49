"""Data-driven attribution in the warehouse: marts.attribution_paths in, ml.attribution_channel_credits out.

The paths mart holds distinct paths with their counts, so the frame read here stays small whatever
the number of customers. Besides each model's channel credits, the table holds allocation weights
fitted so that dbt's per-order split (`allocate_to_paths`, in SQL) adds up to those credits.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from mercator.attribution import CREDIT_COLUMNS, attribute_paths, parse_paths
from mercator.attribution.credits import fit_allocation_weights

PATHS_TABLE = "marts.attribution_paths"
CREDITS_TABLE = "ml.attribution_channel_credits"
MARKOV_ORDERS = (1, 2)
COLUMNS = (*CREDIT_COLUMNS, "conversion_weight", "revenue_weight")


def read_paths(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        f"select path, conversions, non_conversions, conversion_value from {PATHS_TABLE} order by path"
    ).df()


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


def write_credits(con: duckdb.DuckDBPyConnection, credits: pd.DataFrame) -> None:
    con.execute("create schema if not exists ml")
    con.register("channel_credits_frame", credits)
    numbers = ", ".join(f"cast({name} as double) as {name}" for name in COLUMNS[2:])
    try:
        con.execute(
            f"create or replace table {CREDITS_TABLE} as select cast(model as varchar) as model, "
            f"cast(channel as varchar) as channel, {numbers} from channel_credits_frame"
        )
    finally:
        con.unregister("channel_credits_frame")


def attribute_warehouse(con: duckdb.DuckDBPyConnection) -> dict:
    """Compute and store the data-driven channel credits; returns a small summary."""
    paths = read_paths(con)
    credits = channel_credits(paths)
    write_credits(con, credits)
    return {
        "distinct_paths": len(paths),
        "conversions": int(paths["conversions"].sum()) if len(paths) else 0,
        "models": sorted(credits["model"].unique().tolist()),
    }

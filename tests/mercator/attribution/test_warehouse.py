"""The attribute step on a real DuckDB file: paths mart in, channel credits and allocation weights out."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from mercator.attribution import allocate_to_paths, parse_paths
from mercator.attribution.synthetic import simulate_paths
from mercator.attribution.warehouse import CREDITS_TABLE, attribute_warehouse
from mercator.engine import DuckDBEngine


def _warehouse(path, paths: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.register("paths_frame", paths)
    con.execute("create table marts.attribution_paths as select * from paths_frame")
    con.unregister("paths_frame")
    return con


def test_credits_sum_to_the_paths_totals_and_weights_reproduce_them_per_path(tmp_path):
    paths = simulate_paths(20_000, n_channels=7, seed=4)
    with _warehouse(tmp_path / "w.duckdb", paths) as con:
        summary = attribute_warehouse(DuckDBEngine(con))
        credits = con.execute(f"select * from {CREDITS_TABLE}").df()
    assert summary["models"] == ["markov", "markov_order_2", "shapley"]
    totals = credits.groupby("model")[["conversions", "revenue"]].sum()
    assert totals["conversions"].to_numpy() == pytest.approx(paths["conversions"].sum())
    assert totals["revenue"].to_numpy() == pytest.approx(paths["conversion_value"].sum())
    table = parse_paths(paths)
    for model, rows in credits.groupby("model"):
        rows = rows.set_index("channel").loc[list(table.channels)]
        allocated = allocate_to_paths(table, rows["conversion_weight"], rows["revenue_weight"])
        sums = allocated.groupby("channel")[["conversions", "revenue"]].sum().loc[rows.index]
        assert sums["conversions"].to_numpy() == pytest.approx(rows["conversions"].to_numpy(), rel=1e-6), model
        assert sums["revenue"].to_numpy() == pytest.approx(rows["revenue"].to_numpy(), rel=1e-6), model


def test_no_paths_write_an_empty_table_with_every_column(tmp_path):
    empty = pd.DataFrame({"path": pd.Series([], dtype=str), "conversions": [], "non_conversions": [],
                          "conversion_value": []})
    with _warehouse(tmp_path / "w.duckdb", empty) as con:
        assert attribute_warehouse(DuckDBEngine(con))["models"] == []
        columns = [row[0] for row in con.execute(f"describe {CREDITS_TABLE}").fetchall()]
        rows = con.execute(f"select count(*) from {CREDITS_TABLE}").fetchone()[0]
    assert columns == ["model", "channel", "conversions", "revenue", "conversion_weight", "revenue_weight"]
    assert rows == 0

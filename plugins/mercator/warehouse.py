"""The DuckDB warehouse, as every step uses it: open it (waiting for the write lock), ask what it holds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from datetime import time as day_start
from pathlib import Path

import duckdb

from mercator.config import duckdb_resources


def connect(warehouse: Path, timeout_s: float = 300.0, poll_s: float = 1.0) -> duckdb.DuckDBPyConnection:
    """DuckDB allows one writing process per file: parallel tasks queue here until it is free. The
    connection has the warehouse's memory limit, threads and spill directory."""
    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return duckdb.connect(str(warehouse), config=duckdb_resources(warehouse))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(poll_s)


def table_exists(con, relation: str) -> bool:
    """Whether `schema.table` exists (a table or a view)."""
    schema, table = relation.split(".")
    query = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    return bool(con.execute(query, [schema, table]).fetchall()[0][0])


def marts_as_of(con):
    """The as-of date the marts were built for (`marts.customer_rfm`'s; None before a build or without orders)."""
    if not table_exists(con, "marts.customer_rfm"):
        return None
    return con.execute("select max(as_of) from marts.customer_rfm").fetchone()[0]


def run_clock(con) -> str:
    """The run's clock in data time (ISO, UTC): the end of the marts' as-of day, or the wall clock before
    a build. Activation counts cap windows and journey waits from it, so backfills and tests behave
    as the days they replay did."""
    as_of = marts_as_of(con)
    if as_of is None:
        return datetime.now(UTC).isoformat()
    return datetime.combine(as_of + timedelta(days=1), day_start.min, UTC).isoformat()


def columns(con, relation: str) -> set[str]:
    """The column names of `schema.table` (empty when it does not exist)."""
    schema, table = relation.split(".")
    query = "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
    return {name for (name,) in con.execute(query, [schema, table]).fetchall()}


def rows(con, sql: str, params: list | None = None) -> list[dict]:
    """A query's rows as dicts keyed by column name."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

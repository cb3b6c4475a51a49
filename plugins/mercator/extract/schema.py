"""DDL of schema `raw`: one table per entity, the quarantine and the delivery log."""

from __future__ import annotations

import duckdb

from mercator import contract

QUARANTINE_DDL = """
create table if not exists raw.quarantine (
  source varchar,
  entity varchar,
  file varchar,
  line bigint,
  reason varchar,
  record varchar,
  delivery_hash varchar,
  load_id varchar,
  quarantined_at timestamptz
)"""

DELIVERIES_DDL = """
create table if not exists raw._deliveries (
  source varchar,
  entity varchar,
  file varchar,
  delivery_hash varchar,
  load_id varchar,
  loaded_at timestamptz,
  rows_in bigint,
  rows_loaded bigint,
  rows_quarantined bigint,
  encoding varchar,
  file_size bigint,
  file_mtime_ns bigint
)"""

DELIVERIES_STAT_COLUMNS = ("file_size", "file_mtime_ns")


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema `raw`, every entity's raw table (even without files), quarantine and _deliveries."""
    con.execute("create schema if not exists raw")
    for e in contract.ENTITIES:
        con.execute(contract.raw_table_ddl(e))
    con.execute(QUARANTINE_DDL)
    con.execute(DELIVERIES_DDL)
    for column in DELIVERIES_STAT_COLUMNS:
        con.execute(f"alter table raw._deliveries add column if not exists {column} bigint")


def raw_columns(con: duckdb.DuckDBPyConnection, e: contract.Entity) -> list[str]:
    """Current column names of an entity's raw table."""
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [e.raw_table],
    ).fetchall()
    return [r[0] for r in rows]

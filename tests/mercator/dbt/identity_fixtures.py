"""Helpers for the identity dbt tests: a raw warehouse from hand-made rows, and dbt runs on a copy."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb
from mercator.contract import ENTITIES, entity, raw_table_ddl
from mercator.transform import DbtFailed, invoke_dbt

DBT_PROJECT = Path(__file__).resolve().parents[3] / "dbt_project"
LOADED_AT = "2026-01-01 00:00:00+00"

Row = Mapping[str, object]


def load_raw(warehouse: Path, rows: Mapping[str, Iterable[Row]], loaded_at: str = LOADED_AT) -> None:
    """Create every raw table (empty if absent) and append `rows` keyed by `<source>/<entity>`."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists raw")
        for e in ENTITIES:
            con.execute(raw_table_ddl(e))
        for path, entity_rows in rows.items():
            e = entity(path)
            for line, row in enumerate(entity_rows, start=1):
                values = {"_file": f"{path}.csv", "_line": line, "_loaded_at": loaded_at, **row}
                names = ", ".join(f'"{name}"' for name in values)
                marks = ", ".join("?" for _ in values)
                con.execute(f"insert into raw.{e.raw_table} ({names}) values ({marks})", list(values.values()))


def copy_project(destination: Path) -> Path:
    """A private copy of the dbt project (no target/ or logs), so parallel runs don't clash."""
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb")
    return Path(shutil.copytree(DBT_PROJECT, destination / "dbt_project", ignore=ignore))


def run_dbt(project: Path, warehouse: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run `dbt <args>` on `project` against `warehouse` (in this process, as the pipeline does); fail with
    dbt's output when dbt fails."""
    run_env = {**os.environ, "MERCATOR_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
               **(env or {})}
    try:
        return invoke_dbt(project, [*args, "--profiles-dir", str(project), "--target-path", str(project / "target")],
                          run_env)
    except DbtFailed as failure:
        raise AssertionError(str(failure)) from None


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()

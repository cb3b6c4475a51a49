"""Hand-built landing folders and a real DuckDB warehouse for extract tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from mercator.extract import EntityLoadResult, ensure_raw_schema, load_entity


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_raw_schema(connection)
    yield connection
    connection.close()


@pytest.fixture
def write(landing: Path) -> Callable[[str, bytes | str], Path]:
    def _write(relative: str, content: bytes | str) -> Path:
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return _write


@pytest.fixture
def load(con: duckdb.DuckDBPyConnection, landing: Path) -> Callable[..., EntityLoadResult]:
    def _load(entity: str, load_id: str = "L1", source_timezone: str = "UTC") -> EntityLoadResult:
        return load_entity(con, landing, entity, load_id, source_timezone=source_timezone)

    return _load


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def csv_record_count(text: str) -> int:
    """Data records in a CSV text, counted by Python's csv module (blank lines are not records)."""
    return sum(1 for row in csv.reader(io.StringIO(text)) if row) - 1


def quarantine(con: duckdb.DuckDBPyConnection, file: str) -> dict[int | None, str]:
    rows = con.execute("select line, reason from raw.quarantine where file = ?", [file]).fetchall()
    return dict(rows)


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()

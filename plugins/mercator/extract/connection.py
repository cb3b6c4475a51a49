"""Open the DuckDB warehouse, waiting while another process holds its write lock."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb


def connect(warehouse: Path, timeout_s: float = 300.0, poll_s: float = 1.0) -> duckdb.DuckDBPyConnection:
    """DuckDB allows one writing process per file: parallel extract tasks queue here until it is free."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return duckdb.connect(str(warehouse))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(poll_s)

"""Suite-wide set-up: Airflow reads the repository's airflow.cfg, metadata in a temp dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("AIRFLOW_HOME", str(REPO_ROOT))
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def _share_the_cores() -> None:
    """Under pytest-xdist, each worker's processes (DuckDB, dbt, BLAS) get their share of the cores
    instead of one thread per core each: oversubscribed threads spin and switch, which doubled the
    suite's CPU time. Set before numpy is imported, inherited by every DAG run and dbt process."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers <= 1:
        return
    share = str(max(1, (os.cpu_count() or 1) // workers))
    for name in ("MERCATOR_DUCKDB_THREADS", "MERCATOR_DBT_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "MKL_NUM_THREADS"):
        os.environ.setdefault(name, share)


_share_the_cores()
# Spark's JVMs here live for one short command each: C1 alone and the serial collector cost a third
# less CPU than the JIT's full tiers and parallel GC (194 against 298 CPU s for a 2,000-customer build).
os.environ.setdefault("MERCATOR_SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """For pytest-xdist's `--dist loadgroup --no-loadscope-reorder`: a module's tests share a worker,
    so that its module-scoped fixtures (a DAG run, a dbt build) are made once, and a test marked
    `xdist_group` (one landing shape, say) goes with its group instead; the groups making the most
    DAG runs (marker `dag_runs`) come first, so that no long group starts last."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    items.sort(key=lambda item: -_dag_runs(item))


def _dag_runs(item: pytest.Item) -> int:
    marker = item.get_closest_marker("dag_runs")
    return marker.args[0] if marker else 0

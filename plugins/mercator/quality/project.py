"""The Great Expectations file project in `expectations/`: open it, or (re)generate it from `suites.py`.

The committed project holds one SQL data source whose connection string is the
config variable `${MERCATOR_GX_WAREHOUSE_URL}` (set per run, so no path is
committed), one query asset per suite table, the suites, a validation definition
and a checkpoint per suite. Runtime output (validation results, Data Docs) goes
to `uncommitted/`, which git ignores.

Regenerate after editing `suites.py`: `python -m mercator.quality.project`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mercator.config import REPO_ROOT
from mercator.quality.suites import SUITES, SuiteSpec

PROJECT_DIR = REPO_ROOT / "expectations"
DATASOURCE = "warehouse"
BATCH = "whole_table"
WAREHOUSE_URL_VAR = "MERCATOR_GX_WAREHOUSE_URL"
DOCS_SITE = "local_site"
# Read-only: the gate never writes to the warehouse.
ENGINE_KWARGS = {"connect_args": {"read_only": True}}


class _DuckDBDialect(str):
    """A `GXSqlDialect`-like name GX accepts in its persisted-connection list."""

    value = "duckdb"


def _keep_duckdb_connection_open() -> None:
    """Make GX keep one DuckDB connection open while it validates.

    GX runs a metric query and fetches its rows after closing the SQLAlchemy
    connection; closing rolls back DuckDB's transaction, which drops the pending
    result set (DuckDB 1.4+/2.x), so every metric comes back empty. GX already keeps
    one connection open for SQLite and friends; DuckDB joins that list.
    """
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    if "duckdb" not in [str(d.value) for d in engine._PERSISTED_CONNECTION_DIALECTS]:
        engine._PERSISTED_CONNECTION_DIALECTS = (
            *engine._PERSISTED_CONNECTION_DIALECTS,
            _DuckDBDialect("duckdb"),
        )


@contextmanager
def warehouse_url(warehouse: Path) -> Iterator[None]:
    """Point the project's data source at a DuckDB file for the duration of a block."""
    previous = os.environ.get(WAREHOUSE_URL_VAR)
    os.environ[WAREHOUSE_URL_VAR] = f"duckdb:///{Path(warehouse).resolve()}"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(WAREHOUSE_URL_VAR, None)
        else:
            os.environ[WAREHOUSE_URL_VAR] = previous


def open_context(project_dir: Path = PROJECT_DIR):
    """The file data context rooted at `project_dir` (the folder holding great_expectations.yml)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    _keep_duckdb_connection_open()
    return gx.get_context(mode="file", context_root_dir=str(project_dir))


def _add_suite(context, datasource, spec: SuiteSpec) -> None:
    import great_expectations as gx

    asset = datasource.add_query_asset(name=spec.table, query=spec.query)
    batch = asset.add_batch_definition_whole_table(BATCH)
    suite = context.suites.add(gx.ExpectationSuite(name=spec.name, meta={"table": spec.table}))
    for check in spec.checks:
        expectation_class = getattr(gx.expectations, check.expectation)
        suite.add_expectation(
            expectation_class(**check.kwargs, severity=check.severity, meta={"severity": check.severity})
        )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=spec.name, data=batch, suite=suite)
    )
    context.checkpoints.add(
        gx.Checkpoint(
            name=spec.name,
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs", site_names=[DOCS_SITE])],
            result_format="SUMMARY",
        )
    )


def write_project(project_dir: Path, warehouse: Path) -> None:
    """Create the GX project from scratch in `project_dir` (an empty DuckDB file is enough to connect)."""
    import duckdb

    if project_dir.exists():
        shutil.rmtree(project_dir)
    duckdb.connect(str(warehouse)).close()
    with warehouse_url(warehouse):
        context = open_context(project_dir)
        datasource = context.data_sources.add_sql(
            name=DATASOURCE, connection_string="${" + WAREHOUSE_URL_VAR + "}", kwargs=ENGINE_KWARGS
        )
        for spec in SUITES.values():
            _add_suite(context, datasource, spec)
        context.variables.analytics_enabled = False
        context.variables.save()


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        write_project(PROJECT_DIR, Path(tmp) / "empty.duckdb")
    print(f"wrote {PROJECT_DIR}")

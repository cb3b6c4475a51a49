"""The Great Expectations file project in `expectations/`: open it, or (re)generate it from `suites.py`.

The committed project holds one SQL data source whose connection string is the
config variable `${MERCATOR_GX_WAREHOUSE_URL}` (set per run, so no path is
committed), one query asset per suite table, the suites, a validation definition
and a checkpoint per suite (without actions: the runner builds Data Docs once per
gate, as rebuilding the site after each suite costs more than validating). Runtime
output (validation results, Data Docs) goes to `${MERCATOR_GX_OUTPUT_DIR}`, which
the runner points at `<reports_dir>/quality`: nothing a run makes lands in the repo.

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
OUTPUT_DIR_VAR = "MERCATOR_GX_OUTPUT_DIR"
DOCS_SITE = "local_site"
RESULTS_SUBDIR, DOCS_SUBDIR = "validations", "data_docs"
# Failed map expectations list a few example values, never every unexpected row (fast at 1M+ rows).
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
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
def _env(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@contextmanager
def run_context(warehouse: Path, output_dir: Path) -> Iterator[None]:
    """Point the project at a DuckDB file, and its results and Data Docs at `output_dir`, for a block."""
    with _env(WAREHOUSE_URL_VAR, f"duckdb:///{Path(warehouse).resolve()}"):
        with _env(OUTPUT_DIR_VAR, str(Path(output_dir).resolve())):
            yield


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
        described = {"description": check.description} if check.description else {}
        suite.add_expectation(
            expectation_class(**check.kwargs, **described, severity=check.severity, meta={"severity": check.severity})
        )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=spec.name, data=batch, suite=suite)
    )
    context.checkpoints.add(
        gx.Checkpoint(
            name=spec.name,
            validation_definitions=[definition],
            result_format=RESULT_FORMAT,
        )
    )


def _send_output_to_run_dir(project_dir: Path) -> None:
    """Store validation results and build Data Docs under `${MERCATOR_GX_OUTPUT_DIR}`, no progress bars."""
    from ruamel.yaml import YAML

    yaml = YAML()
    path = project_dir / "great_expectations.yml"
    config = yaml.load(path.read_text())
    output = "${" + OUTPUT_DIR_VAR + "}/"
    config["stores"]["validation_results_store"]["store_backend"]["base_directory"] = output + RESULTS_SUBDIR
    config["data_docs_sites"][DOCS_SITE]["store_backend"]["base_directory"] = output + DOCS_SUBDIR
    config["progress_bars"] = {"globally": False}
    with path.open("w") as out:
        yaml.dump(config, out)


def write_project(project_dir: Path, warehouse: Path, output_dir: Path) -> None:
    """Create the GX project from scratch in `project_dir` (an empty DuckDB file is enough to connect)."""
    import duckdb

    if project_dir.exists():
        shutil.rmtree(project_dir)
    duckdb.connect(str(warehouse)).close()
    with run_context(warehouse, output_dir):
        context = open_context(project_dir)
        datasource = context.data_sources.add_sql(
            name=DATASOURCE, connection_string="${" + WAREHOUSE_URL_VAR + "}", kwargs=ENGINE_KWARGS
        )
        for spec in SUITES.values():
            _add_suite(context, datasource, spec)
        context.variables.analytics_enabled = False
        context.variables.save()
    shutil.rmtree(project_dir / "uncommitted", ignore_errors=True)
    _send_output_to_run_dir(project_dir)
    _make_ids_stable(project_dir)


def _make_ids_stable(project_dir: Path) -> None:
    """Replace GX's random ids by ids derived from where each first appears, so that regenerating
    an unchanged project changes no file (and a new suite adds files without rewriting the others)."""
    import json
    import re
    import uuid

    from ruamel.yaml import YAML

    files = sorted(p for p in project_dir.rglob("*") if p.suffix in (".json", ".yml"))
    first_seen: dict[str, str] = {}

    def walk(node, where: str) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            walk(value, f"{where}/{key}")
        if isinstance(node, str) and re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", node):
            first_seen.setdefault(node, where)

    for path in files:
        text = path.read_text()
        walk(json.loads(text) if path.suffix == ".json" else YAML(typ="safe").load(text), path.name)
    for path in [*files, project_dir / "expectations" / ".ge_store_backend_id"]:
        text = path.read_text()
        for old, where in first_seen.items():
            text = text.replace(old, str(uuid.uuid5(uuid.NAMESPACE_URL, f"mercator-gx:{where}")))
        path.write_text(text)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        write_project(PROJECT_DIR, Path(tmp) / "empty.duckdb", Path(tmp) / "output")
    print(f"wrote {PROJECT_DIR}")

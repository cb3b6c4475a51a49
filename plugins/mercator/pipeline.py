"""The pipeline's steps, one function per DAG task: settings in, a small summary out.

The DAG only wires these together; tests and benchmarks call them directly.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from mercator.config import Settings

RAW_SUITES = ("raw_shop_orders", "raw_crm_contacts")
MART_SUITES = ("marts_dim_customers",)
AUDIENCES = ("audience_at_risk_email",)


@contextmanager
def warehouse(settings: Settings):
    """A writing DuckDB connection to the warehouse (waits for the write lock), closed on exit."""
    from mercator.extract import connect

    con = connect(settings.warehouse)
    try:
        yield con
    finally:
        con.close()


def prepare_warehouse(settings: Settings) -> None:
    """Create the raw schema and every entity's raw table (empty when no file is delivered)."""
    from mercator.extract import ensure_raw_schema

    with warehouse(settings) as con:
        ensure_raw_schema(con)


def extract_entity(settings: Settings, entity_path: str, load_id: str) -> dict:
    """Load one landing entity's new or changed deliveries into raw."""
    from mercator.extract import load_entity

    with warehouse(settings) as con:
        result = load_entity(
            con, settings.landing_dir, entity_path, load_id, source_timezone=settings.source_timezone
        )
    return result.as_dict()


def _check(settings: Settings, suites: tuple[str, ...]) -> dict:
    from mercator.quality import gate, run_suites

    results = run_suites(settings.warehouse, suites, settings.reports_dir)
    gate(results)
    return {r.suite: r.status for r in results}


def check_raw(settings: Settings) -> dict:
    """Raw Great Expectations suites; raises on a critical failure, which stops the run."""
    return _check(settings, RAW_SUITES)


# Python models (CLV, attribution) read dbt models and write tables of schema `ml`, which dbt
# declares as the source `ml`: dbt builds in two passes around them.
SCORED = "source:ml+"


def transform(settings: Settings) -> None:
    """dbt build of everything that does not read the Python models' outputs (source `ml`)."""
    from mercator.transform import run_dbt

    run_dbt(settings, "build", "--exclude", SCORED)


def transform_scored(settings: Settings) -> None:
    """dbt build of the models downstream of the Python models' outputs (no-op when there are none)."""
    from mercator.transform import run_dbt

    run_dbt(settings, "build", "--select", SCORED)


def check_marts(settings: Settings) -> dict:
    """Mart Great Expectations suites; raises on a critical failure, which blocks activation."""
    return _check(settings, MART_SUITES)


def activate(settings: Settings, run_id: str) -> dict:
    """Push every audience to its destinations; only new or changed members are sent."""
    from mercator.activation import OutboxConfig, OutboxDestination

    destination = OutboxDestination(OutboxConfig(directory=settings.reports_dir / "outbox"))
    with warehouse(settings) as con:
        return {a: destination.sync(con, a, run_id).summary() for a in AUDIENCES}


def report(settings: Settings) -> str:
    """Write the marketers' dashboard; returns its path."""
    from mercator.reporting import build_dashboard

    path: Path = build_dashboard(settings.warehouse, settings.reports_dir)
    return str(path)

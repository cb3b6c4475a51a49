"""The pipeline's steps, one function per DAG task: settings in, a small summary out.

The DAG only wires these together; tests and benchmarks call them directly.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from contextlib import contextmanager
from pathlib import Path

from mercator.config import Settings
from mercator.quality.suites import suites_in

log = logging.getLogger(__name__)

SENDGRID_CONN_ENV, SENDGRID_CONN_DEFAULT = "MERCATOR_SENDGRID_CONN", "sendgrid_default"
RAW_SUITES = suites_in("raw")  # every suite registered in mercator.quality.suites for a raw.* table
MART_SUITES = suites_in("marts")


@contextmanager
def warehouse(settings: Settings):
    """A writing DuckDB connection to the warehouse (waits for the write lock), closed on exit."""
    from mercator.warehouse import connect

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


def pull_unsubscribes(settings: Settings) -> dict:
    """SendGrid's global unsubscribes since the last pull into the landing dir's `email/events`
    (mercator.events.unsubscribes), through the Airflow connection named by env MERCATOR_SENDGRID_CONN
    (default `sendgrid_default`; the API key is its password, its host optional). Without that
    connection the pull is skipped."""
    from mercator.activation.destination import ConfigError, get_connection

    conn_id = os.environ.get(SENDGRID_CONN_ENV) or SENDGRID_CONN_DEFAULT
    try:
        connection = get_connection(conn_id)
    except ConfigError:
        log.info("unsubscribe pull skipped: no Airflow connection %r", conn_id)
        return {"status": "skipped", "connection": conn_id}
    if not connection.password:
        raise ConfigError(f"connection {conn_id!r} must hold the SendGrid API key as its password")
    from sendgrid import SendGridAPIClient  # only to pull: a skipped run does not pay for the SDK

    from mercator.events.unsubscribes import pull_unsubscribes as pull

    client = SendGridAPIClient(connection.password, host=connection.base_url("api.sendgrid.com"))
    return {"status": "pulled", **dataclasses.asdict(pull(client, settings.landing_dir))}


def _check(settings: Settings, gate_name: str, suites: tuple[str, ...], run_id: str | None) -> dict:
    """Run the suites and record the gate's outcome for this run, then raise on a critical failure;
    else the status per suite and every warning."""
    from mercator.quality import gate, run_suites
    from mercator.quality.load_freshness import check_load_freshness
    from mercator.quality.runner import write_gate, write_last_run

    results = run_suites(settings.warehouse, suites, settings.reports_dir, as_of=settings.as_of)
    if suites == RAW_SUITES:  # the raw gate also reports when each entity last got a delivery
        results.append(check_load_freshness(settings))
        write_last_run(results[-1:], settings.reports_dir / "quality")
    write_gate(gate_name, run_id, results, settings.reports_dir / "quality")
    gate(results)
    return {
        "status": {r.suite: r.status for r in results},
        "warnings": {r.suite: r.warnings for r in results if r.warnings},
    }


def check_raw(settings: Settings, run_id: str | None = None) -> dict:
    """Raw Great Expectations suites; raises on a critical failure, which stops the run."""
    return _check(settings, "raw", RAW_SUITES, run_id)


# Python models (CLV, attribution) read dbt models and write tables of schema `ml`, which dbt
# declares as the source `ml`: dbt builds in two passes around them.
SCORED = "source:ml+"
# dbt build's arguments. dbt unit tests pin the models' logic on fixtures, not the data: they run in
# the test suite (tests/mercator/dbt/test_unit_tests.py, on DuckDB: their fixtures are CTEs, which only
# DuckDB's recursive form of the connected components can read), not in every pipeline run.
BUILD_ARGS = ("--exclude-resource-type", "unit_test")


def _build(settings: Settings, *selection: str) -> None:
    from mercator.transform import run_dbt

    run_dbt(settings, "build", *selection, *BUILD_ARGS)


def transform(settings: Settings) -> None:
    """dbt build of everything that does not read the Python models' outputs (source `ml`). On Spark,
    the raw tables are first exported for it (mercator.spark.export_raw)."""
    if settings.engine == "spark":
        from mercator.spark import export_raw

        export_raw(settings)
    _build(settings, "--exclude", SCORED)


def transform_scored(settings: Settings) -> None:
    """dbt build of the models downstream of the Python models' outputs (no-op when there are none). On
    Spark, the tables it built are then copied into the DuckDB file that the gates, activation and
    reports read (mercator.spark.publish_marts)."""
    _build(settings, "--select", SCORED)
    if settings.engine == "spark":
        from mercator.spark import publish_marts

        publish_marts(settings)


def attribute(settings: Settings) -> dict:
    """Data-driven attribution (Markov, Shapley) of marts.attribution_paths -> ml.attribution_channel_credits."""
    from mercator.attribution.warehouse import attribute_warehouse
    from mercator.engine import open_engine

    with open_engine(settings) as engine:
        return attribute_warehouse(engine)


def fit_clv(settings: Settings) -> dict:
    """CLV, P(alive) and churn risk from int_clv_summaries -> ml.customer_clv_scores, ml.clv_model_params,
    and a model card in <models_dir>/clv/<as_of>/. Thin data falls back to heuristics with warnings."""
    from mercator.clv.warehouse import fit_and_store
    from mercator.engine import open_engine

    with open_engine(settings) as engine:
        return fit_and_store(engine, settings.models_dir)


def check_marts(settings: Settings, run_id: str | None = None) -> dict:
    """Mart Great Expectations suites; raises on a critical failure, which blocks activation."""
    return _check(settings, "marts", MART_SUITES, run_id)


def _manifest(settings: Settings) -> Path:
    return settings.dbt_target_dir / "manifest.json"


def plan_activation(settings: Settings) -> list[dict]:
    """Every audience x destination to sync (audiences from dbt's manifest, each config checked first)."""
    from mercator.activation.runner import discover, plan_tasks

    audiences = discover(lambda: warehouse(settings), _manifest(settings))
    return [{"audience": t.audience, "destination": t.destination_index} for a in audiences for t in plan_tasks(a)]


def sync_audience(settings: Settings, audience: str, destination: int, run_id: str, dry_run: bool = False) -> dict:
    """Sync one audience to one of its destinations (-1: the outbox fallback); its counts."""
    from mercator.activation.runner import control_group, discover, frequency_caps, project_vars, run_task
    from mercator.warehouse import run_clock

    spec = next(a for a in discover(lambda: warehouse(settings), _manifest(settings)) if a.name == audience)
    project = project_vars(settings.dbt_project_dir, settings.dbt_vars)
    with warehouse(settings) as con:
        now = run_clock(con)
    result = run_task(lambda: warehouse(settings), spec, destination, run_id, settings.reports_dir,
                      frequency_caps(project), settings.warehouse.parent, dry_run, control_group(project), now)
    return result.summary() if result else {"audience": audience, "status": "skipped"}


def activate(settings: Settings, run_id: str, dry_run: bool = False) -> list[dict]:
    """Every audience to every destination in this process (tests, benchmarks); the DAG maps sync_audience."""
    from mercator.activation.runner import activate_all

    return activate_all(
        lambda: warehouse(settings), _manifest(settings), run_id, settings.reports_dir, settings.dbt_project_dir,
        settings.warehouse.parent, dry_run, settings.dbt_vars,
    )


def run_journeys(settings: Settings, run_id: str) -> list[dict]:
    """Evaluate every journey of dbt_project/journeys/ for this run's as-of day; their counts."""
    from mercator.activation.runner import control_group, frequency_caps, known_types, project_vars
    from mercator.journeys.engine import JourneyRun, evaluate_all
    from mercator.journeys.spec import load_journeys

    journeys = load_journeys(settings.dbt_project_dir / "journeys", known_types())
    project = project_vars(settings.dbt_project_dir, settings.dbt_vars)
    run = JourneyRun(run_id, settings.reports_dir, settings.warehouse.parent, frequency_caps(project),
                     control_group(project))
    return evaluate_all(lambda: warehouse(settings), journeys, run)


def measure_campaigns(settings: Settings) -> int:
    """Write `marts.campaign_results`: every audience's sends against their holdouts (dbt vars
    campaign_window_days and campaign_cost_per_message); the number of sends measured."""
    from mercator.activation.runner import project_vars
    from mercator.experiments.campaigns import write_campaign_results

    project = project_vars(settings.dbt_project_dir, settings.dbt_vars)
    costs = {k: float(v) for k, v in (project.get("campaign_cost_per_message") or {}).items()}
    with warehouse(settings) as con:
        return write_campaign_results(con, costs, int(project.get("campaign_window_days", 14)))


def report(settings: Settings, run_id: str | None = None, task_states: dict[str, str] | None = None) -> str:
    """Write the marketers' dashboard for run `run_id` whatever happened upstream: `task_states` (task id
    -> Airflow state) name the steps that failed or did not run. Returns its path."""
    from mercator.reporting import build_dashboard

    path: Path = build_dashboard(settings.warehouse, settings.reports_dir, run_id, task_states)
    return str(path)


def alert_kpis(settings: Settings, run_id: str | None = None, task_states: dict[str, str] | None = None) -> dict:
    """KPI alerts for the latest complete day of marts.kpi_daily (mercator.alerts, docs/alerts.md): episodes
    in `alerts.episodes`, messages to Slack and/or email (Airflow connections) or `reports/alerts/`. A gate
    that failed or did not run in `run_id` holds back the KPIs it covers and sends one data alert instead.
    A target that is down is recorded and retried by the next run, never failing this one."""
    from datetime import date

    from mercator.alerts.delivery import targets
    from mercator.alerts.run import alert_kpis as run_alerts
    from mercator.reporting.health import run_health

    health = run_health(settings.reports_dir / "quality", run_id, task_states)
    fallback = date.fromisoformat(settings.as_of) if settings.as_of else date.today()
    dashboard = os.environ.get("MERCATOR_DASHBOARD_URL") or "dashboard.html"
    with warehouse(settings) as con:
        return run_alerts(con, health, targets(settings.reports_dir), dashboard, fallback)

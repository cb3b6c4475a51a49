"""Every DAG file imports cleanly, cheaply, and follows the project's conventions."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

HEAVY = ("duckdb", "dbt", "great_expectations", "pandas", "lifetimes", "mercator.extract")
GROUP_ORDER = ["extract", "quality_raw", "transform", "quality_marts", "activate", "report"]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "marketing_daily" in dagbag.dags


def test_marketing_daily_conventions(dagbag):
    dag = dagbag.dags["marketing_daily"]
    assert {"mercator", "marketing"} <= set(dag.tags)
    assert dag.doc_md and "quality_marts" in dag.doc_md
    assert set(dag.params.keys()) >= {"landing_dir", "as_of", "dry_run"}
    outside_pool = {"activate.sync", "extract.pull_unsubscribes"}
    for t in dag.tasks:
        # a sync waits for destinations (it takes the write lock only to plan and record), the unsubscribe
        # pull for SendGrid (it writes the landing dir only): outside the pool
        assert t.pool == ("default_pool" if t.task_id in outside_pool else "duckdb_writer"), t.task_id
        if not t.task_id.startswith("transform.dbt_build"):  # a failed dbt test fails again
            assert t.retries >= 1, t.task_id


def test_task_groups_run_in_pipeline_order(dagbag):
    dag = dagbag.dags["marketing_daily"]
    groups = {t.task_id.split(".")[0]: t for t in dag.tasks if "." in t.task_id}
    for before, after in zip(GROUP_ORDER, GROUP_ORDER[1:], strict=False):
        downstream = groups[before].get_flat_relative_ids(upstream=False)
        assert any(tid.startswith(after + ".") for tid in downstream), f"{before} must precede {after}"


def test_every_contract_entity_has_an_extract_task(dagbag):
    from mercator.contract import ENTITIES

    ids = {t.task_id for t in dagbag.dags["marketing_daily"].tasks}
    assert {f"extract.load_{e.raw_table}" for e in ENTITIES} <= ids


def test_sendgrids_unsubscribes_are_pulled_before_the_email_events_load(dagbag):
    dag = dagbag.dags["marketing_daily"]
    pull = dag.get_task("extract.pull_unsubscribes")
    assert "extract.load_email__events" in pull.downstream_task_ids and pull.retries >= 1
    assert "pull_unsubscribes" in dag.doc_md and "MERCATOR_SENDGRID_CONN" in dag.doc_md


def test_no_heavy_work_at_import_time():
    """Parsing the DAG file must not import the warehouse, dbt or GX (no work at parse time)."""
    code = (
        "import sys, runpy; runpy.run_path('dags/marketing_daily.py');"
        f"print([m for m in sys.modules if m.startswith({HEAVY!r})])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_report_runs_whatever_happened_after_every_task_and_the_watcher_fails_the_run(dagbag):
    dag = dagbag.dags["marketing_daily"]
    report, watcher = dag.get_task("report.build_dashboard"), dag.get_task("watcher")
    assert report.trigger_rule == "all_done"
    assert report.upstream_task_ids == {t.task_id for t in dag.tasks} - {report.task_id, watcher.task_id}
    assert watcher.trigger_rule == "all_done" and watcher.upstream_task_ids == {report.task_id}
    assert dag.get_task("activate.plan_syncs").trigger_rule == "all_success"  # a failed mart gate blocks it
    assert {t.task_id for t in dag.leaves} == {watcher.task_id}


def test_kpi_alerts_run_after_every_task_before_the_dashboard(dagbag):
    dag = dagbag.dags["marketing_daily"]
    alerts, report = dag.get_task("report.alert_kpis"), dag.get_task("report.build_dashboard")
    others = {t.task_id for t in dag.tasks} - {alerts.task_id, report.task_id, "watcher"}
    assert alerts.trigger_rule == "all_done" and alerts.upstream_task_ids == others
    assert report.task_id in alerts.downstream_task_ids and alerts.retries >= 1


def test_the_engine_param_offers_every_engine(dagbag):
    from mercator.config import ENGINES

    assert set(dagbag.dags["marketing_daily"].params.get_param("engine").schema["enum"]) == {"", *ENGINES}


def test_every_task_takes_its_settings_from_the_run_params(dagbag):
    """Each task that calls a pipeline step builds its settings with `_settings()` (the run's params,
    `engine` among them: `make run TARGET=spark`) or `_gate()`, which calls it; none reads the
    environment's settings alone, which would run that step on the default engine."""
    import inspect

    for t in dagbag.dags["marketing_daily"].tasks:
        if t.task_id == "watcher":
            continue
        source = inspect.getsource(t.python_callable)
        assert "_settings()" in source or "_gate(" in source, t.task_id
        assert "Settings.from_env()" not in source, t.task_id


def test_the_in_process_runs_task_graph_is_the_dags(dagbag):
    """tests/e2e/pipeline_run.py runs the DAG's tasks without Airflow (the landing-shape tests): the
    same task ids with the same upstream tasks."""
    from tests.e2e.pipeline_run import task_graph

    dag = dagbag.dags["marketing_daily"]
    assert task_graph() == {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}

"""The marketing_daily DAG's tasks run in this process, in the DAG's order, with its task ids and its
trigger rules: the pipeline's own steps (mercator.pipeline, as the DAG calls them) without starting
Airflow. For tests about what the pipeline does with data; what Airflow does (reruns, crashes,
failed gates, the task graph) stays on real `airflow dags test` runs (tests.e2e.airflow_run).

A run gives what `airflow dags test` would: an exit code (non-zero when a task failed), the log
(lines of level warning and above as Airflow prints them, `[warning  ] message [logger]`) and
each task's final state (`success`, `failed`, `upstream_failed`), as tests.e2e.airflow_run's
`task_states` reads them from Airflow's metadata DB.
"""

from __future__ import annotations

import io
import logging
import os
import traceback
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mercator import pipeline
from mercator.config import Settings
from mercator.contract import ENTITIES

UNSUBSCRIBES_ENTITY = "email/events"  # dags/marketing_daily.py: the pull lands there first


@dataclass
class PipelineRun:
    returncode: int
    stdout: str
    stderr: str
    states: dict[str, str]


class _AirflowLikeFormatter(logging.Formatter):
    """`[warning  ] message [logger]`, as `airflow dags test` prints a task's log (structlog's console)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return f"[{record.levelname.lower():9}] {message} [{record.name}]"


@contextmanager
def _environ(env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _captured_log():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(_AirflowLikeFormatter())
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Python warnings (ClvWarning...) go to the log as a task's do (logger py.warnings), not to pytest's summary
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        logging.captureWarnings(True)
        try:
            yield out
        finally:
            logging.captureWarnings(False)
            root.removeHandler(handler)
            root.setLevel(level)


def _tasks(settings: Settings, run_id: str) -> list[tuple[str, tuple[str, ...], Callable]]:
    """(task id, upstream task ids, callable) in an order the DAG's graph allows."""
    loads = [f"extract.load_{e.raw_table}" for e in ENTITIES]
    tasks: list[tuple[str, tuple[str, ...], Callable]] = [
        ("prepare_warehouse", (), lambda: pipeline.prepare_warehouse(settings)),
        ("extract.pull_unsubscribes", ("prepare_warehouse",), lambda: pipeline.pull_unsubscribes(settings)),
    ]
    for entity, task_id in zip(ENTITIES, loads, strict=True):
        upstream = ("extract.pull_unsubscribes",) if entity.path == UNSUBSCRIBES_ENTITY else ("prepare_warehouse",)
        tasks.append((task_id, upstream,
                      lambda path=entity.path: pipeline.extract_entity(settings, path, run_id)))
    tasks += [
        ("quality_raw.validate_raw", tuple(loads), lambda: pipeline.check_raw(settings, run_id)),
        ("transform.dbt_build", ("quality_raw.validate_raw",), lambda: pipeline.transform(settings)),
        ("transform.fit_clv", ("transform.dbt_build",), lambda: pipeline.fit_clv(settings)),
        ("transform.attribute", ("transform.dbt_build",), lambda: pipeline.attribute(settings)),
        ("transform.dbt_build_scored", ("transform.dbt_build", "transform.fit_clv", "transform.attribute"),
         lambda: pipeline.transform_scored(settings)),
        ("quality_marts.validate_marts", ("transform.dbt_build_scored",),
         lambda: pipeline.check_marts(settings, run_id)),
        ("activate.plan_syncs", ("quality_marts.validate_marts",), lambda: pipeline.plan_activation(settings)),
    ]
    return tasks


ACTIVATE_AFTER_PLAN = {  # the tasks after activate.plan_syncs, each with its upstream tasks
    "activate.sync": ("activate.plan_syncs",),
    "activate.run_journeys": ("activate.sync",),
    "activate.measure_campaigns": ("activate.run_journeys",),
}


def task_graph(settings: Settings | None = None) -> dict[str, set[str]]:
    """Every task id this module runs -> its upstream task ids, as it treats them (to compare with the
    DAG's: tests/dags/test_dag_integrity.py). The KPI alerts wait for every task before them, the
    dashboard for those and the alerts (trigger rule all_done), the watcher for the dashboard."""
    tasks = _tasks(settings or Settings.from_env(), "graph")
    graph = {task_id: set(upstream) for task_id, upstream, _ in tasks}
    graph |= {task_id: set(upstream) for task_id, upstream in ACTIVATE_AFTER_PLAN.items()}
    graph["report.alert_kpis"] = set(graph)
    graph["report.build_dashboard"] = set(graph)
    graph["watcher"] = {"report.build_dashboard"}
    return graph


def run_pipeline(settings: Settings, env: dict[str, str], run_id: str | None = None,
                 dry_run: bool = False) -> PipelineRun:
    """Every task of marketing_daily on `settings` with `env` as the process environment (a sandbox's:
    warehouse, reports, dbt target), as `airflow dags test` would run them."""
    run_id = run_id or f"manual__{datetime.now(UTC).isoformat()}"
    states: dict[str, str] = {}

    def run(task_id: str, upstream: tuple[str, ...], call: Callable):
        if any(states.get(u) in ("failed", "upstream_failed") for u in upstream):
            states[task_id] = "upstream_failed"
            return None
        try:
            result = call()
        except Exception as failure:  # Airflow logs the exception and fails the task
            logging.getLogger("task").error("Task failed with exception", exc_info=failure)
            states[task_id] = "failed"
            return None
        states[task_id] = "success"
        return result

    with _environ(env), _captured_log() as out:
        log = logging.getLogger("task")
        for task_id, upstream, call in _tasks(settings, run_id):
            log.info("running %s", task_id)
            targets = run(task_id, upstream, call)
        # activate.sync: mapped over plan_syncs' targets, one instance each (a failed one fails the task)
        if states["activate.plan_syncs"] != "success":
            states["activate.sync"] = "upstream_failed"
        else:
            states["activate.sync"] = "skipped" if not targets else "success"
            for target in targets:
                run("activate.sync-instance", ("activate.plan_syncs",),
                    lambda t=target: pipeline.sync_audience(settings, t["audience"], t["destination"], run_id, dry_run))
                if states.pop("activate.sync-instance") != "success":
                    states["activate.sync"] = "failed"
        if states["activate.sync"] == "skipped":  # all_success downstream of a skipped task: skipped
            states["activate.run_journeys"] = states["activate.measure_campaigns"] = "skipped"
        else:
            run("activate.run_journeys", ACTIVATE_AFTER_PLAN["activate.run_journeys"],
                lambda: [] if dry_run else pipeline.run_journeys(settings, run_id))
            run("activate.measure_campaigns", ACTIVATE_AFTER_PLAN["activate.measure_campaigns"],
                lambda: pipeline.measure_campaigns(settings))
        # report.alert_kpis, report.build_dashboard and watcher: trigger rule all_done
        if dry_run:
            states["report.alert_kpis"] = "skipped"
        else:
            run("report.alert_kpis", (), lambda: pipeline.alert_kpis(settings, run_id, dict(states)))
        run("report.build_dashboard", (), lambda: pipeline.report(settings, run_id, dict(states)))
        failed = sorted(t for t, s in states.items() if s in ("failed", "upstream_failed"))
        states["watcher"] = "failed" if failed else "success"
        if failed:
            log.error("this run failed; tasks failed or not run: %s", ", ".join(failed))
    return PipelineRun(1 if failed else 0, out.getvalue(), "", states)


def settings_from(env: dict[str, str], landing: Path) -> Settings:
    """The DAG's settings (Settings.from_env with the run's landing_dir) under `env`."""
    with _environ(env):
        return Settings.from_env().with_run_params(str(landing))

"""pipeline.alert_kpis as the DAG task calls it: this run's gates from reports/quality/last_run.json, no
connections (files under reports/alerts/), the episodes the dashboard reads in alerts.episodes."""

from __future__ import annotations

import json
from dataclasses import replace

import duckdb
from mercator import pipeline
from mercator.config import Settings
from mercator.summary import alert_lines

from tests.mercator.alerts.kpi_fixtures import HISTORY, add_day, create_kpi_daily

EPISODE_COLUMNS = {"episode_id": "VARCHAR", "kpi": "VARCHAR", "channel": "VARCHAR", "status": "VARCHAR",
                   "opened_on": "DATE", "resolved_on": "DATE", "observed": "DOUBLE", "expected_low": "DOUBLE",
                   "expected_high": "DOUBLE", "deviation": "DOUBLE", "message": "VARCHAR"}


def record_gates(reports, run_id: str) -> None:
    quality = reports / "quality"
    quality.mkdir(parents=True, exist_ok=True)
    gates = {name: {"gate": name, "run_id": run_id, "status": "passed", "failures": []} for name in ("raw", "marts")}
    (quality / "last_run.json").write_text(json.dumps({"suites": {}, "gates": gates}))


def test_the_task_alerts_on_this_runs_data_and_holds_back_when_the_gates_did_not_run(tmp_path, monkeypatch):
    for name in ("AIRFLOW_CONN_MERCATOR_SLACK", "AIRFLOW_CONN_MERCATOR_SMTP"):
        monkeypatch.delenv(name, raising=False)
    settings = replace(Settings.from_env(), warehouse=tmp_path / "w.duckdb", reports_dir=tmp_path / "reports")
    with duckdb.connect(str(settings.warehouse)) as con:
        create_kpi_daily(con, HISTORY)
        add_day(con, HISTORY, shock=0.4)
    record_gates(settings.reports_dir, "run-1")

    summary = pipeline.alert_kpis(settings, "run-1", {"quality_marts.validate_marts": "success"})
    assert summary["opened"] == 2 and summary["held_back"] == []
    assert len(list((settings.reports_dir / "alerts").glob("*.json"))) == 2

    summary = pipeline.alert_kpis(settings, "run-2", {})  # the gates recorded are run-1's: stale for run-2
    assert summary["opened"] == 0 and len(summary["held_back"]) == 6
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        columns = dict(con.execute("select column_name, data_type from information_schema.columns "
                                   "where table_schema = 'alerts' and table_name = 'episodes'").fetchall())
        kinds = con.execute("select kind, status from alerts.episodes order by kind").fetchall()
        summary_lines = alert_lines(con)
    assert EPISODE_COLUMNS.items() <= columns.items()
    assert kinds == [("data", "notified"), ("kpi", "notified"), ("kpi", "notified")]
    assert summary_lines[0] == "  KPI alerts (open):" and len(summary_lines) == 4
    assert "Data checks failed" in summary_lines[1] and "Revenue" in summary_lines[2]

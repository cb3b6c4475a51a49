"""Run `airflow dags test marketing_daily` in an isolated Airflow home, as `make run` does."""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO_ROOT

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@dataclass
class AirflowSandbox:
    """A temporary Airflow metadata DB and a warehouse, sharing the repository's airflow.cfg and DAGs."""

    home: Path
    warehouse: Path
    reports: Path
    connections: dict[str, dict] = field(default_factory=dict)  # Airflow connection id -> its JSON form

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW_CONFIG=str(REPO_ROOT / "airflow.cfg"),
            AIRFLOW__CORE__DAGS_FOLDER=str(REPO_ROOT / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO_ROOT / "plugins"),
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{self.home / 'airflow.db'}",
            MERCATOR_WAREHOUSE=str(self.warehouse),
            MERCATOR_REPORTS=str(self.reports),
            MERCATOR_MODELS=str(self.home / "models"),
            # dbt's artifacts and log per Airflow home: sandboxes can run side by side
            MERCATOR_DBT_TARGET=str(self.home / "dbt_target"),
            DBT_LOG_PATH=str(self.home / "dbt_logs"),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        )
        env.update({f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in self.connections.items()})
        return env

    def airflow(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True, check=False)

    def init(self) -> None:
        """A metadata DB as `airflow db migrate` and the DuckDB writer pool leave it (copied from one
        made once per test process)."""
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_db(), self.home / "airflow.db")

    def run_dag(self, landing: Path, as_of: str = "", logical_date: str | None = None,
                dbt_vars: dict | None = None) -> subprocess.CompletedProcess:
        conf = json.dumps({"landing_dir": str(landing), "as_of": as_of, **({"dbt_vars": dbt_vars} if dbt_vars else {})})
        args = ["dags", "test", "marketing_daily", *([logical_date] if logical_date else []), "-c", conf]
        return self.airflow(*args)


@functools.cache
def _migrated_db() -> Path:
    home = Path(tempfile.mkdtemp(prefix="mercator-airflow-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    sandbox = AirflowSandbox(home=home, warehouse=home / "unused.duckdb", reports=home / "reports")
    for args in (("db", "migrate"), ("pools", "set", "duckdb_writer", "1", "DuckDB single writer")):
        proc = sandbox.airflow(*args)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return home / "airflow.db"


def dag_runs(sandbox: AirflowSandbox) -> list[dict[str, str]]:
    """Every `marketing_daily` run (run_id, state, start_date), oldest first, read from Airflow's
    metadata DB (the rows `airflow dags list-runs` prints, without starting the Airflow CLI)."""
    with closing(sqlite3.connect(sandbox.home / "airflow.db", timeout=30)) as db:
        rows = db.execute(
            "select run_id, state, start_date from dag_run where dag_id = 'marketing_daily' "
            "order by coalesce(start_date, ''), id"
        ).fetchall()
    return [{"run_id": run_id, "state": state, "start_date": start} for run_id, state, start in rows]


def task_states(sandbox: AirflowSandbox) -> dict[str, str]:
    """Final state per task id of the latest `marketing_daily` run, from Airflow's metadata DB (what
    `airflow tasks states-for-dag-run` prints; a mapped task's instances must all end alike, else the
    first state other than success is its state)."""
    run_id = dag_runs(sandbox)[-1]["run_id"]
    with closing(sqlite3.connect(sandbox.home / "airflow.db", timeout=30)) as db:
        rows = db.execute(
            "select task_id, state from task_instance where dag_id = 'marketing_daily' and run_id = ? "
            "order by task_id, map_index", [run_id]
        ).fetchall()
    states: dict[str, str] = {}
    for task_id, state in rows:
        if states.get(task_id, "success") == "success":
            states[task_id] = state
    return states

"""Run `airflow dags test marketing_daily` in an isolated Airflow home, as `make run` does."""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
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

    def run_dag(self, landing: Path, as_of: str = "", logical_date: str | None = None) -> subprocess.CompletedProcess:
        conf = json.dumps({"landing_dir": str(landing), "as_of": as_of})
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


def task_states(sandbox: AirflowSandbox) -> dict[str, str]:
    """Final state per task id of the latest `marketing_daily` run, from Airflow's metadata DB."""
    runs = sandbox.airflow("dags", "list-runs", "marketing_daily", "-o", "json")
    assert runs.returncode == 0, runs.stderr[-2000:]
    run_id = max(_json_rows(runs.stdout), key=lambda row: row["start_date"] or "")["run_id"]
    proc = sandbox.airflow("tasks", "states-for-dag-run", "marketing_daily", run_id, "-o", "json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {row["task_id"]: row["state"] for row in _json_rows(proc.stdout)}


def _json_rows(stdout: str) -> list[dict]:
    """The JSON list a CLI command printed, skipping any log lines around it."""
    return json.loads(next(line for line in reversed(stdout.splitlines()) if line.startswith("[")))

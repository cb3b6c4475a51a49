"""Reruns and crashes end in the state of one clean run: same marts, same outbox, nothing sent twice.

A reference sandbox runs the DAG once on small demo data. Then: the same DAG run again on the
same day changes nothing; and runs killed (SIGKILL to the whole process group) in the middle of a
task, one after another in later and later tasks, then started again, end in exactly the
reference state.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import duckdb
import pytest

from tests.e2e.airflow_run import AirflowSandbox

pytestmark = [pytest.mark.e2e, pytest.mark.dag_runs(6)]

# A load half-written, dbt's tables half-built, audiences half-sent. (Not the mart gate: it reads the
# warehouse and writes only its report, which the restart writes again; each kill costs a run.)
KILLED_IN = (
    "extract.load_web__events",
    "transform.dbt_build",
    "activate.sync",
)


def marts_state(sandbox: AirflowSandbox) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent hash of every public table (schema `marts`)."""
    with duckdb.connect(str(sandbox.warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()]
        return {
            t: con.execute(
                "select count(*), md5(coalesce(string_agg(h, '' order by h), '')) "
                f"from (select md5(cast(x as varchar)) as h from marts.{t} as x)"
            ).fetchone()
            for t in tables
        }


def outbox_lines(sandbox: AirflowSandbox) -> Counter:
    """Every line written to the outbox, with the file it is in and how often it appears."""
    root = sandbox.reports / "outbox"
    return Counter(
        (f.relative_to(root).as_posix(), line)
        for f in sorted(root.rglob("*.jsonl"))
        for line in f.read_text().splitlines()
        if line
    )


def task_durations(sandbox: AirflowSandbox) -> dict[str, float]:
    with sqlite3.connect(sandbox.home / "airflow.db") as db:
        return dict(db.execute("select task_id, duration from task_instance where state = 'success'").fetchall())


def running_tasks(sandbox: AirflowSandbox) -> set[str]:
    with sqlite3.connect(sandbox.home / "airflow.db", timeout=5) as db:
        return {t for (t,) in db.execute("select task_id from task_instance where state = 'running'").fetchall()}


def kill_during(sandbox: AirflowSandbox, landing, task_id: str, after_seconds: float) -> None:
    """Start the DAG and SIGKILL its process group `after_seconds` into `task_id`."""
    conf = f'{{"landing_dir": "{landing}", "as_of": ""}}'
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    proc = subprocess.Popen(
        [airflow, "dags", "test", "marketing_daily", "-c", conf],
        env=sandbox.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while task_id not in running_tasks(sandbox):
            assert proc.poll() is None, f"the run ended before {task_id} started"
            assert time.monotonic() < deadline, f"{task_id} never started"
            time.sleep(0.02)
        time.sleep(after_seconds)
        assert task_id in running_tasks(sandbox), f"{task_id} finished before the kill"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def sandbox_in(root, name: str) -> AirflowSandbox:
    sandbox = AirflowSandbox(home=root / name / "airflow", warehouse=root / name / "wh.duckdb",
                             reports=root / name / "reports")
    sandbox.init()
    return sandbox


def assert_clean_run(sandbox: AirflowSandbox, landing) -> None:
    proc = sandbox.run_dag(landing)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("reruns")


@pytest.fixture(scope="module")
def landing(root):
    out = root / "landing"
    subprocess.run(
        [sys.executable, "-m", "mercator.demo", "--customers", "150", "--seed", "3", "--out", str(out),
         "--malformed-share", "0.01"],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def reference(root, landing):
    sandbox = sandbox_in(root, "reference")
    assert_clean_run(sandbox, landing)
    return sandbox, marts_state(sandbox), outbox_lines(sandbox), task_durations(sandbox)


def test_reference_run_fills_every_mart_and_the_outbox(reference):
    sandbox, marts, outbox, _ = reference
    assert {"dim_customers", "fct_orders", "customer_rfm", "audience_at_risk_email"} <= set(marts)
    assert marts["fct_orders"][0] > 0 and marts["audience_at_risk_email"][0] > 0
    with duckdb.connect(str(sandbox.warehouse), read_only=True) as con:
        delivered = dict(con.execute(
            "select destination = 'outbox', coalesce(sum(delivered), 0) from activation.sync_runs group by 1"
        ).fetchall())
    assert sum(outbox.values()) == delivered[True] > 0
    ad_rows = sum(len(f.read_text().splitlines()) - 1 for f in (sandbox.reports / "ad_audiences").rglob("*_add_*.csv"))
    assert ad_rows == delivered.get(False, 0), "ad-file deliveries are the rows in the ad files"


def test_second_run_on_the_same_day_changes_nothing(reference, landing):
    sandbox, marts, outbox, _ = reference
    assert_clean_run(sandbox, landing)
    assert marts_state(sandbox) == marts
    assert outbox_lines(sandbox) == outbox
    assert max(outbox.values()) == 1, "a line was written twice"


def test_runs_killed_in_one_task_after_another_then_restarted_end_as_a_clean_run(root, landing, reference):
    """Each start is killed in the next task of KILLED_IN (so later kills hit a run that is itself
    recovering from the one before), then one run goes through."""
    _, marts, outbox, durations = reference
    sandbox = sandbox_in(root, "killed")
    for task_id in KILLED_IN:
        # A quarter of the task's reference duration (most of a small task is its process start-up):
        # half of it let the now faster extract of web events finish before the kill on a busy machine.
        kill_during(sandbox, landing, task_id, after_seconds=min(durations[task_id] / 4, 2.0))
    assert_clean_run(sandbox, landing)
    assert marts_state(sandbox) == marts
    assert outbox_lines(sandbox) == outbox

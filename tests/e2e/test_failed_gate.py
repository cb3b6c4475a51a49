"""End to end: when the mart gate fails, the run fails, activation stays blocked, and the dashboard
still comes out, saying which gate, suites and checks failed, with the last good numbers labelled.

Both `airflow dags test` runs use a copy of the project. Run 1 on small demo data passes both gates
(as of 2026-10-10: the `as_of` param limits RFM to the orders up to then) and leaves the last good
copies. Then, in the copy, an analyst leaves churned
customers out of dim_customers: dbt builds it (no dbt test covers the link from orders and scores
to dim_customers; its unit test has no churned customer), and the mart gate finds orders, RFM and
CLV scores of customers dim_customers no longer has. Run 2 (as of the latest date) fails the gate.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO_ROOT
from tests.e2e.airflow_run import AirflowSandbox, dag_runs, task_states

pytestmark = [pytest.mark.e2e, pytest.mark.dag_runs(2)]

FIRST_AS_OF = "2026-10-10"
ANALYST_EDIT = ("select * from final", "select * from final where lifecycle_stage <> 'churned'")


@dataclass
class ProjectCopySandbox(AirflowSandbox):
    """A sandbox whose DAG, package, dbt project and GX project come from a copy of the repository."""

    project: Path | None = None

    @property
    def env(self) -> dict[str, str]:
        env = super().env
        env.update(
            AIRFLOW__CORE__DAGS_FOLDER=str(self.project / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(self.project / "plugins"),
            PYTHONPATH=str(self.project / "plugins"),  # mercator (and so dbt and GX projects) from the copy
        )
        return env


def copy_project(target: Path) -> Path:
    ignore = shutil.ignore_patterns("target", "logs", "__pycache__", "*.pyc")
    for part in ("dags", "plugins", "dbt_project", "expectations"):
        shutil.copytree(REPO_ROOT / part, target / part, ignore=ignore)
    return target


def outbox_lines(sandbox: AirflowSandbox) -> Counter:
    root = sandbox.reports / "outbox"
    return Counter((f.name, line) for f in root.rglob("*.jsonl") for line in f.read_text().splitlines() if line)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("failed_gate")
    landing = root / "landing"
    subprocess.run([sys.executable, "-m", "mercator.demo", "--customers", "150", "--seed", "5", "--out",
                    str(landing)], check=True, capture_output=True)
    project = copy_project(root / "project")
    sandbox = ProjectCopySandbox(home=root / "airflow", warehouse=root / "wh.duckdb", reports=root / "reports",
                                 project=project)
    sandbox.init()
    first = sandbox.run_dag(landing, as_of=FIRST_AS_OF)
    assert first.returncode == 0, (first.stdout + first.stderr)[-6000:]
    outbox = outbox_lines(sandbox)
    first_rfm = rfm_as_of(sandbox)

    model = project / "dbt_project" / "models" / "marts" / "dim_customers.sql"
    sql = model.read_text()
    assert sql.rstrip().endswith(ANALYST_EDIT[0]), "dim_customers.sql changed shape: update the analyst's edit"
    model.write_text(sql.rstrip().removesuffix(ANALYST_EDIT[0]) + ANALYST_EDIT[1] + "\n")
    second = sandbox.run_dag(landing)
    return sandbox, second, outbox, dag_runs(sandbox), first_rfm


def rfm_as_of(sandbox: AirflowSandbox) -> dict:
    """What marts.customer_rfm says of its as-of date against the orders in marts.fct_orders."""
    with duckdb.connect(str(sandbox.warehouse), read_only=True) as con:
        as_ofs = [str(d) for (d,) in con.execute("select distinct as_of from marts.customer_rfm").fetchall()]
        without_orders_by_then = con.execute(
            "select count(*) from marts.customer_rfm r where not exists (select 1 from marts.fct_orders f "
            "where f.customer_key = r.customer_key and f.is_countable and cast(f.ordered_at as date) <= as_of)"
        ).fetchone()[0]
        later_orders = con.execute(
            "select count(*) from marts.fct_orders where is_countable and cast(ordered_at as date) > ?", [FIRST_AS_OF]
        ).fetchone()[0]
    return {"as_ofs": as_ofs, "without_orders_by_then": without_orders_by_then, "later_orders": later_orders}


def test_as_of_param_limits_rfm_to_orders_up_to_that_date(runs):
    *_, first_rfm = runs
    assert first_rfm["as_ofs"] == [FIRST_AS_OF]
    assert first_rfm["without_orders_by_then"] == 0
    assert first_rfm["later_orders"] > 0, "the landing should hold orders after the as-of date"


def test_the_run_fails_activation_is_blocked_and_the_report_succeeds(runs):
    sandbox, second, _, dag_runs, _ = runs
    assert second.returncode != 0  # `airflow dags test` (and so `make run`) exits non-zero
    assert [run["state"] for run in dag_runs] == ["success", "failed"]
    states = task_states(sandbox)
    assert states.pop("quality_marts.validate_marts") == "failed"
    activation = {t: states.pop(t) for t in list(states) if t.startswith("activate.")}
    assert activation and set(activation.values()) == {"upstream_failed"}, activation
    assert states.pop("watcher") == "failed"
    assert states.pop("report.build_dashboard") == "success"
    assert set(states.values()) == {"success"}, states


def test_activation_sent_nothing_new(runs):
    sandbox, _, outbox, *_ = runs
    assert outbox and outbox_lines(sandbox) == outbox


def test_dashboard_names_the_failed_gate_its_suites_checks_and_rows(runs):
    sandbox, *_ = runs
    html = (sandbox.reports / "dashboard.html").read_text()
    banner = html[html.index('id="run-status"'):html.index('class="slot"')]
    assert 'data-gate="marts" data-gate-status="failed"' in banner and "activation was blocked" in banner
    assert 'data-gate="raw" data-gate-status="passed"' in banner
    orphans = re.search(r"marts_fct_orders \(marts.fct_orders\): unexpected_rows_expectation\(every order has a "
                        r"customer in dim_customers or is anonymous \(customer_key null\)\): (\d+) rows unexpected",
                        banner)
    assert orphans and int(orphans.group(1)) > 0, banner
    assert "marts_customer_rfm (marts.customer_rfm)" in banner and "marts_customer_clv (marts.customer_clv)" in banner
    not_run = re.search(r"Not run because an earlier step failed: ([^<]+)\.</li>", banner)
    assert not_run and {t for t in task_states(sandbox) if t.startswith("activate.")} <= set(
        not_run.group(1).split(", ")), banner


def test_failed_sections_show_the_first_runs_numbers_labelled_with_its_as_of_date(runs):
    sandbox, _, _, dag_runs, _ = runs
    html = (sandbox.reports / "dashboard.html").read_text()
    first_run = dag_runs[0]["run_id"]
    shown = dict(re.findall(r'<div class="slot" data-section="(\w+)" data-shown="(\w+)">', html))
    assert shown == {"overview": "last_good", "trends": "last_good", "migration": "last_good", "clv": "last_good",
                     "campaigns": "last_good", "attribution": "current"}
    label = f"Last good numbers, as of {FIRST_AS_OF} (run {first_run}), not from this run"
    assert html.count(label) == sum(v == "last_good" for v in shown.values())  # one per section
    assert f'data-kpi="As of">{FIRST_AS_OF}<' in html
    meta = json.loads((sandbox.reports / "last_good" / "meta.json").read_text())
    assert {m["run_id"] for m in meta.values()} == {first_run}  # the failed run saved nothing


def test_summary_prints_the_failed_gate_and_the_dashboard(runs):
    sandbox, *_ = runs
    proc = subprocess.run([sys.executable, "-m", "mercator.summary"], env=sandbox.env, capture_output=True,
                          text=True, check=True)
    assert re.search(r"mart gate:\s+failed\n\s+marts_fct_orders", proc.stdout), proc.stdout
    assert f"Dashboard: {sandbox.reports / 'dashboard.html'}" in proc.stdout


def test_the_failed_gate_sends_one_data_alert_in_place_of_the_kpi_alerts_it_covers(runs):
    sandbox, *_ = runs
    with duckdb.connect(str(sandbox.warehouse), read_only=True) as con:
        data = con.execute("select episode_id, status, message from alerts.episodes where kind = 'data'").fetchall()
        kpi_days = con.execute("select distinct kpi_date from alerts.scored").fetchall()
    assert len(data) == 1, data
    episode_id, status, message = data[0]
    assert status == "notified" and "the mart gate failed on" in message and "marts.fct_orders" in message
    assert "revenue" in message.split("held back for")[1]
    alert = json.loads((sandbox.reports / "alerts" / f"{episode_id}.alert.json").read_text())
    assert alert["kind"] == "alert" and alert["link"] == "dashboard.html#run-status"
    assert len(kpi_days) <= 2  # run 1 scored its day; run 2 scored only the KPIs the gate did not cover

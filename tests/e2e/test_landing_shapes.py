"""End to end over landing folders unlike the demo's (`mercator.demo.shapes`): one run of every
marketing_daily task per shape (in this process, in the DAG's order, with its task ids and trigger
rules: tests.e2e.pipeline_run; these tests are about the data, what Airflow does is
test_reruns_and_crashes' and test_failed_gate's), then the marts, dashboard and summary it left,
checked against facts computed from the generated files.

The shapes run one after the other at one place (dbt's partial parsing carries over from shape to
shape). Each run's time is recorded as the test property `dag_seconds` and printed, with the tasks
that did not succeed, at the end of the module.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pytest
from mercator.demo.shapes import SHAPES, generate

from tests.e2e.airflow_run import AirflowSandbox
from tests.e2e.pipeline_run import PipelineRun, run_pipeline, settings_from

pytestmark = pytest.mark.e2e

PEOPLE = {"irregular_shop": 700, "five_customers": 5}  # every other shape: DEFAULT_PEOPLE
DEFAULT_PEOPLE = 200
MARTS = ("dim_customers", "fct_orders", "customer_rfm", "customer_clv", "clv_model_params")
THIN = ("one_order_each", "five_customers", "one_day")  # too little repeat history for a CLV fit
SALES_INPUTS = ("shop/orders", "pos/transactions")
ORDER_ID = {"shop/orders": "order_id", "pos/transactions": "transaction_id"}
# The identifiers each landing entity carries, by identifier type: records sharing one are one person.
IDENTIFIERS = {
    "shop/orders": {"customer_id": "customer_id", "email": "email", "phone": "phone", "anonymous_id": "anonymous_id"},
    "pos/transactions": {"loyalty_id": "loyalty_id", "phone": "phone", "email": "email"},
    "crm/contacts": {"contact_id": "contact_id", "email": "email", "phone": "phone", "loyalty_id": "loyalty_id",
                     "customer_id": "customer_id"},
    "web/events": {"anonymous_id": "anonymous_id", "user_id": "customer_id", "email": "email"},
    "app/events": {"device_id": "device_id", "user_id": "customer_id"},
    "email/events": {"email": "email"},
    "sms/events": {"person": "phone"},  # To of a message sent, From of one received (see _nodes)
}
# Identifiers that make a person a customer (dim_customers) without an order.
CUSTOMER_IDENTIFIERS = ("email", "phone", "customer_id", "contact_id", "loyalty_id")


@dataclass
class ShapeSandbox(AirflowSandbox):
    """A sandbox's environment (warehouse, reports, dbt target) with its own models folder (CLV model cards)."""

    models: Path = Path()

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "MERCATOR_MODELS": str(self.models)}


def _sandbox(home: Path, place: Path) -> ShapeSandbox:
    return ShapeSandbox(home=home, warehouse=place / "wh.duckdb", reports=place / "reports", models=place / "models")


@dataclass
class ShapeRun:
    name: str
    landing: Path
    sandbox: ShapeSandbox
    proc: PipelineRun
    seconds: float
    states: dict[str, str] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.proc.stdout + self.proc.stderr

    def con(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.sandbox.warehouse), read_only=True)

    def rows(self, path: str) -> list[dict[str, str]]:
        """The rows of a landing entity, every delivered version (empty when the shape has none)."""
        rows = []
        for file in sorted((self.landing / path).glob("*.csv")):
            with file.open(newline="") as handle:
                rows += list(csv.DictReader(handle))
        return rows


class ShapeRuns(dict):
    """Each shape generated and run through the DAG's tasks when a test first asks for it.

    dbt parses the whole project again when its profile (the warehouse path) changes: every run
    happens at one place (`<home>/run`: warehouse, reports, models), moved to the shape's folder
    once the run is over, so that dbt's partial parsing carries over from shape to shape.
    """

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.home = root / "airflow"
        self.home.mkdir(parents=True)

    def __missing__(self, name: str) -> ShapeRun:
        landing = self.root / name / "landing"
        shape = SHAPES[name]
        generate(replace(shape, people=PEOPLE.get(name, min(shape.people, DEFAULT_PEOPLE))), landing, seed=7)
        work = _sandbox(self.home, self.home / "run")
        started = time.monotonic()
        proc = run_pipeline(settings_from(work.env, landing), work.env)
        seconds = time.monotonic() - started
        states = proc.states
        shutil.move(self.home / "run", self.root / name / "run")
        self[name] = ShapeRun(name, landing, _sandbox(self.home, self.root / name / "run"), proc, seconds, states)
        return self[name]


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> ShapeRuns:
    done = ShapeRuns(tmp_path_factory.mktemp("shapes"))
    yield done
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    if reporter is None:  # a pytest-xdist worker: the times are in each test's dag_seconds property
        return
    with capture.global_and_fixture_disabled():
        reporter.write_sep("-", "landing shapes: DAG run time, tasks that did not succeed")
        for r in done.values():
            failed = sorted(f"{task}={state}" for task, state in r.states.items() if state != "success")
            reporter.write_line(f"{r.name:16} {r.seconds:6.1f}s  exit {r.proc.returncode}  {' '.join(failed) or '-'}")


def shapes(names: Iterable[str]) -> list:
    """Test parameters, one per shape, each in its own pytest-xdist group: a shape's DAG run is
    made on one worker and the shapes spread over the workers."""
    return [pytest.param(name, id=name, marks=[pytest.mark.xdist_group(f"shape-{name}"), pytest.mark.dag_runs(1)])
            for name in names]


@pytest.fixture
def shape_run(runs, shape, record_property) -> ShapeRun:
    record_property("dag_seconds", round(runs[shape].seconds, 1))
    return runs[shape]


def _lines_naming_sales_inputs(run: ShapeRun, level: str) -> list[str]:
    """Log lines of `level` ('error', 'warning') that name shop/orders or pos/transactions."""
    return [line for line in run.output.splitlines()
            if f"[{level}" in line and any(path in line for path in SALES_INPUTS)]


def _failure_names_a_sales_input(run: ShapeRun) -> bool:
    return run.proc.returncode != 0 and bool(_lines_naming_sales_inputs(run, "error"))


def _identifier(kind: str, value: str) -> tuple[str, str] | None:
    """An identifier as Mercator normalises it (emails trimmed and lower-cased, phones by their
    national digits: every shape's numbers are unique in their last ten), or None when empty."""
    value = value.strip()
    if kind == "email":
        value = value.lower()
    elif kind == "phone":
        value = re.sub(r"\D", "", value)[-10:]
    return (kind, value) if value else None


def _nodes(path: str, row: dict[str, str]) -> list[tuple[str, str]]:
    """The identifiers one landing record carries."""
    if path == "sms/events":
        row = {"person": row["From"] if row["MessageStatus"] == "received" else row["To"]}
    return [n for column, kind in IDENTIFIERS[path].items() if (n := _identifier(kind, row[column]))]


def _people(run: ShapeRun) -> dict[tuple[str, str], tuple[str, str]]:
    """Union-find over every landing record's identifiers: identifier -> its person's representative."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(node: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for path in IDENTIFIERS:
        for row in run.rows(path):
            nodes = _nodes(path, row)
            for node in nodes:
                parent[find(node)] = find(nodes[0])
    return {node: find(node) for node in parent}


@pytest.mark.parametrize("shape", shapes(SHAPES))
def test_run_finishes_with_marts_dashboard_and_summary(shape_run: ShapeRun) -> None:
    run = shape_run
    if run.name == "no_sales" and _failure_names_a_sales_input(run):
        return
    failed = {task: state for task, state in run.states.items() if state != "success"}
    assert run.proc.returncode == 0 and not failed, f"{run.name}: {failed}\n{run.output[-6000:]}"
    with run.con() as con:
        tables = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    assert set(MARTS) <= tables
    assert (run.sandbox.reports / "dashboard.html").exists()
    summary = subprocess.run([sys.executable, "-m", "mercator.summary"], env=run.sandbox.env,
                             capture_output=True, text=True, check=False)
    assert summary.returncode == 0, summary.stdout + summary.stderr


@pytest.mark.parametrize("shape", shapes(name for name in SHAPES if SHAPES[name].sells))
def test_every_delivered_order_reaches_fct_orders_with_its_customer(shape_run: ShapeRun) -> None:
    """Each order and store sale once; a customer exactly when it carries an identifier; as many
    customers with orders as the records' shared identifiers make people."""
    run = shape_run
    people = _people(run)
    expected, identified, persons = set(), set(), set()
    for path, source in (("shop/orders", "shop"), ("pos/transactions", "pos")):
        for row in run.rows(path):
            key = (source, row[ORDER_ID[path]])
            expected.add(key)
            if nodes := _nodes(path, row):
                identified.add(key)
                persons.add(people[nodes[0]])
    with run.con() as con:
        orders = {(s, i): k for s, i, k in con.execute(
            "select order_source, source_order_id, customer_key from marts.fct_orders").fetchall()}
    assert set(orders) == expected
    assert {key for key, customer in orders.items() if customer is not None} == identified
    assert len({customer for customer in orders.values() if customer is not None}) == len(persons)


@pytest.mark.parametrize("shape", shapes(SHAPES))
def test_one_customer_per_person_with_an_identifier_or_an_order(shape_run: ShapeRun) -> None:
    """dim_customers: a row per person (as linked by shared identifiers) with an email, phone,
    customer_id, contact_id or loyalty_id, or an identified order; browsing-only visitors have none."""
    people = _people(shape_run)
    customers = {person for node, person in people.items() if node[0] in CUSTOMER_IDENTIFIERS}
    for path in ORDER_ID:
        customers |= {people[nodes[0]] for row in shape_run.rows(path) if (nodes := _nodes(path, row))}
    with shape_run.con() as con:
        assert con.execute("select count(*) from marts.dim_customers").fetchone()[0] == len(customers)


@pytest.mark.parametrize("shape", shapes(name for name in SHAPES if SHAPES[name].sells))
def test_every_customer_with_countable_orders_is_scored(shape_run: ShapeRun) -> None:
    with shape_run.con() as con:
        buyers = con.execute("select count(distinct customer_key) from marts.fct_orders "
                             "where is_countable and customer_key is not null").fetchone()[0]
        rfm, clv = con.execute("select (select count(*) from marts.customer_rfm), "
                               "(select count(*) from marts.customer_clv where clv is not null)").fetchone()
    assert buyers > 0 and rfm == buyers and clv == buyers


@pytest.mark.parametrize("shape", shapes(["orders_only_10m"]))
def test_without_an_as_of_param_the_as_of_date_is_the_latest_order(shape_run: ShapeRun) -> None:
    with shape_run.con() as con:
        as_of, latest = con.execute(
            "select max(as_of), (select max(cast(ordered_at as date)) from marts.fct_orders) from marts.customer_rfm"
        ).fetchone()
    assert as_of == latest


@pytest.mark.parametrize("shape", shapes(["consent_unknown"]))
def test_unknown_consents_stay_unknown_and_nobody_is_emailed(shape_run: ShapeRun) -> None:
    with shape_run.con() as con:
        consents = set(con.execute(
            "select distinct email_consent, sms_consent, push_consent from marts.dim_customers").fetchall())
        audience = con.execute("select count(*) from marts.audience_at_risk_email").fetchone()[0]
    assert consents == {("unknown", "unknown", "unknown")}
    assert audience == 0


@pytest.mark.parametrize("shape", shapes(["no_sales"]))
def test_contacts_without_sales_are_customers_without_orders_and_a_warning(shape_run: ShapeRun) -> None:
    run = shape_run
    if _failure_names_a_sales_input(run):
        return
    with run.con() as con:
        customers, orders, rfm = con.execute(
            "select (select count(*) from marts.dim_customers), (select count(*) from marts.fct_orders), "
            "(select count(*) from marts.customer_rfm)").fetchone()
    assert customers > 0 and orders == rfm == 0
    assert _lines_naming_sales_inputs(run, "warning"), "no warning names the missing sales inputs"


def _clv_statuses(run: ShapeRun) -> list[tuple[str, str, str | None]]:
    with run.con() as con:
        columns = {c for (c,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'clv_model_params'").fetchall()}
        if "status" not in columns:
            pytest.skip("marts.clv_model_params has no status column yet (being added with the CLV rewrite)")
        return con.execute("select distinct model, status, status_reason from marts.clv_model_params "
                           "order by model").fetchall()


@pytest.mark.parametrize("shape", shapes(name for name in SHAPES if SHAPES[name].sells))
def test_clv_model_status_is_reported(shape_run: ShapeRun) -> None:
    statuses = _clv_statuses(shape_run)
    models = {model for model, _, _ in statuses}
    assert {"bg_nbd", "gamma_gamma"} <= models, statuses
    assert all(status for _, status, _ in statuses), statuses
    assert all(reason for _, status, reason in statuses if status != "fitted"), statuses
    if shape_run.name in THIN:
        assert any(model in ("bg_nbd", "gamma_gamma") and status != "fitted" for model, status, _ in statuses), (
            f"{shape_run.name} has too little repeat history for a CLV fit, yet every model is 'fitted': "
            f"{statuses}")

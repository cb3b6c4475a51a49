"""End to end: a landing folder holding only `shop/orders` runs through the whole DAG."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys

import duckdb
import pytest

from tests.e2e.airflow_run import AirflowSandbox, task_states

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def orders_only(tmp_path_factory):
    root = tmp_path_factory.mktemp("orders_only")
    demo = root / "demo"
    subprocess.run(
        [sys.executable, "-m", "mercator.demo", "--customers", "150", "--seed", "5", "--out", str(demo)],
        check=True,
    )
    landing = root / "landing"
    shutil.copytree(demo / "shop" / "orders", landing / "shop" / "orders")
    sandbox = AirflowSandbox(home=root / "airflow", warehouse=root / "wh.duckdb", reports=root / "reports")
    sandbox.init()
    return sandbox, landing


def _marts(sandbox: AirflowSandbox):
    return duckdb.connect(str(sandbox.warehouse), read_only=True)


def test_whole_dag_succeeds_with_as_of_from_the_data(orders_only):
    sandbox, landing = orders_only
    proc = sandbox.run_dag(landing)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert set(task_states(sandbox).values()) == {"success"}
    order_ids = {row["order_id"] for f in (landing / "shop" / "orders").glob("*.csv")
                 for row in csv.DictReader(f.open(newline=""))}
    with _marts(sandbox) as con:
        loaded = con.execute("select count(*) from marts.fct_orders").fetchone()[0]
        as_of, latest = con.execute(
            "select max(as_of), (select max(cast(ordered_at as date)) from marts.fct_orders) from marts.customer_rfm"
        ).fetchone()
        customers = con.execute("select count(*) from marts.dim_customers").fetchone()[0]
    assert loaded == len(order_ids) and customers > 0
    assert as_of == latest
    assert (sandbox.reports / "dashboard.html").exists()


def test_as_of_param_limits_rfm_to_orders_up_to_that_date(orders_only):
    sandbox, landing = orders_only
    proc = sandbox.run_dag(landing, as_of="2026-01-31")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    with _marts(sandbox) as con:
        as_ofs = con.execute("select distinct as_of from marts.customer_rfm").fetchall()
        without_orders_by_then = con.execute(
            "select count(*) from marts.customer_rfm r where not exists (select 1 from marts.fct_orders f "
            "where f.customer_key = r.customer_key and f.is_countable and cast(f.ordered_at as date) <= as_of)"
        ).fetchone()[0]
        later_buyers = con.execute(
            "select customer_key from marts.fct_orders where is_countable "
            "group by customer_key having min(cast(ordered_at as date)) > date '2026-01-31'"
        ).fetchall()
    assert [str(d) for (d,) in as_ofs] == ["2026-01-31"]
    assert without_orders_by_then == 0
    assert later_buyers, "demo data should hold customers whose first order comes after the as-of date"

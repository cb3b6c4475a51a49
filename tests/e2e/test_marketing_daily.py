"""End to end: `airflow dags test marketing_daily` on small demo data, then check the marts."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import duckdb
import pytest
from mercator.evaluation import identity_quality

from tests.e2e.airflow_run import AirflowSandbox, task_states

pytestmark = pytest.mark.e2e

CUSTOMERS = 400


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    landing = root / "landing"
    subprocess.run(
        [sys.executable, "-m", "mercator.demo", "--customers", str(CUSTOMERS), "--seed", "11",
         "--out", str(landing), "--malformed-share", "0.01"],
        check=True,
    )
    sandbox = AirflowSandbox(home=root / "airflow", warehouse=root / "wh.duckdb", reports=root / "reports")
    sandbox.init()
    proc = sandbox.run_dag(landing)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    con = duckdb.connect(str(sandbox.warehouse), read_only=True)
    yield sandbox, landing, proc.stdout + proc.stderr, con
    con.close()


def _truth(landing, name):
    with open(landing / "truth" / name, newline="") as f:
        return list(csv.DictReader(f))


def test_every_task_succeeded(run):
    sandbox, _, output, _ = run
    states = task_states(sandbox)
    assert states and set(states.values()) == {"success"}, states


def test_every_order_reaches_fct_orders(run):
    _, landing, _, con = run
    records = _truth(landing, "records.csv")
    expected = {(r["source"], r["record_id"]) for r in records if (r["source"], r["entity"]) in
                {("shop", "orders"), ("pos", "transactions")}}
    loaded = set(con.execute("select order_source, source_order_id from marts.fct_orders").fetchall())
    assert loaded == expected


def test_quarantine_holds_exactly_the_malformed_rows(run):
    _, landing, _, con = run
    malformed = {(r["file"], int(r["line"])) for r in _truth(landing, "malformed.csv")}
    quarantined = set(con.execute("select file, line from raw.quarantine").fetchall())
    assert malformed and quarantined == malformed


def test_rows_in_equal_rows_loaded_plus_quarantined(run):
    _, _, _, con = run
    bad = con.execute(
        "select file from raw._deliveries where rows_in <> rows_loaded + rows_quarantined"
    ).fetchall()
    assert bad == []


def test_rfm_covers_every_customer_with_countable_orders(run):
    _, _, _, con = run
    expected = con.execute(
        "select count(distinct customer_key) from marts.fct_orders where is_countable and customer_key is not null"
    ).fetchone()[0]
    rows = con.execute(
        "select count(*), count(distinct customer_key), min(r_score), max(r_score), count(segment) "
        "from marts.customer_rfm"
    ).fetchone()
    assert rows[0] == rows[1] == expected == rows[4]
    assert (rows[2], rows[3]) == (1, 5)


def test_orders_are_grouped_into_customers_as_the_data_allows(run):
    """Orders of one person join when identifiers link them: precision against the true persons,
    recall against the best grouping the identifiers allow (guest orders with no identifier stay apart)."""
    _, landing, _, con = run
    quality = identity_quality(con, landing)
    assert quality["vs_truth"]["precision"] >= 0.97, quality
    assert quality["vs_best_possible"]["recall"] >= 0.98, quality
    assert quality["best_possible_vs_truth"]["recall"] < 1.0, quality


def test_outbox_holds_only_consented_audience_members(run):
    sandbox, _, _, con = run
    files = list((sandbox.reports / "outbox" / "audience_at_risk_email").rglob("*.jsonl"))
    assert files
    sent = [json.loads(line) for f in files for line in f.read_text().splitlines() if line]
    consented = {k for (k,) in con.execute(
        "select customer_key from marts.dim_customers where email_consent = 'granted'").fetchall()}
    assert sent and all(row["customer_key"] in consented and row["email"] for row in sent)
    [(audience, held_out, delivered, members)] = con.execute(
        "select (select count(*) from marts.audience_at_risk_email), sum(held_out), sum(delivered), sum(members)"
        " from activation.sync_runs where audience = 'audience_at_risk_email' and destination = 'outbox'"
    ).fetchall()
    assert members == audience and held_out > 0
    assert len(sent) == delivered == audience - held_out


def test_dashboard_is_written_without_pii(run):
    sandbox, _, _, con = run
    html = (sandbox.reports / "dashboard.html").read_text()
    emails = [e for (e,) in con.execute(
        "select email from marts.dim_customers where email is not null limit 50").fetchall()]
    assert "<svg" in html and not any(e in html for e in emails)


def test_clv_scores_every_buyer_and_reaches_dim_customers(run):
    _, _, _, con = run
    buyers, scored, bad, staged, customers = con.execute(
        "select (select count(distinct customer_key) from marts.fct_orders where is_countable "
        "        and customer_key is not null), "
        "(select count(*) from marts.customer_clv), "
        "(select count(*) from marts.customer_clv where not (p_alive between 0 and 1) or clv < 0), "
        "(select count(lifecycle_stage) from marts.dim_customers), (select count(*) from marts.dim_customers)"
    ).fetchone()
    assert scored == buyers > 0 and bad == 0 and staged == customers
    assert con.execute("select count(*) from marts.dim_customers where clv is not null").fetchone()[0] == scored
    assert {m for (m,) in con.execute("select distinct model from marts.clv_model_params").fetchall()} == {
        "bg_nbd", "gamma_gamma", "churn"}

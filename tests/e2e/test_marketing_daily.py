"""End to end: `airflow dags test marketing_daily` on small demo data, then check the marts and what
reached the SendGrid, Twilio and webhook stand-ins through the DAG's Airflow connections (whose
secrets are sentinels that no log, XCom, table or report may show)."""

from __future__ import annotations

import base64
import csv
import secrets
import subprocess
import sys
from collections import Counter
from contextlib import ExitStack

import duckdb
import pytest
from mercator.evaluation import identity_quality

from tests.e2e.airflow_run import AirflowSandbox, task_states
from tests.standins.sendgrid_server import SendGridStandin
from tests.standins.twilio_server import ACCOUNT_SID, SENDER, TwilioStandin
from tests.standins.webhook_server import WebhookStandin

pytestmark = [pytest.mark.e2e, pytest.mark.dag_runs(1)]

CUSTOMERS = 400


SENTINELS = {
    "sendgrid": "SG.sentinel-" + secrets.token_hex(16),
    "twilio": "sentinel" + secrets.token_hex(12),
    "webhook_key": secrets.token_bytes(32),
}
WEBHOOK_SECRET = "whsec_" + base64.b64encode(SENTINELS["webhook_key"]).decode()


@pytest.fixture(scope="module")
def standins():
    with ExitStack() as stack:
        yield {
            "sendgrid": stack.enter_context(SendGridStandin(api_key=SENTINELS["sendgrid"])),
            "twilio": stack.enter_context(TwilioStandin(auth_token=SENTINELS["twilio"])),
            "webhook": stack.enter_context(WebhookStandin(secret=WEBHOOK_SECRET)),
        }


@pytest.fixture(scope="module")
def run(tmp_path_factory, standins):
    root = tmp_path_factory.mktemp("e2e")
    landing = root / "landing"
    subprocess.run(
        [sys.executable, "-m", "mercator.demo", "--customers", str(CUSTOMERS), "--seed", "11",
         "--out", str(landing), "--malformed-share", "0.01"],
        check=True,
    )
    connections = {
        "mercator_sendgrid": {"conn_type": "sendgrid", "password": SENTINELS["sendgrid"],
                              "host": standins["sendgrid"].base_url},
        "mercator_twilio": {"conn_type": "twilio", "login": ACCOUNT_SID, "password": SENTINELS["twilio"],
                            "host": standins["twilio"].base_url, "extra": {"from_number": SENDER}},
        "mercator_welcome_webhook": {"conn_type": "http", "host": standins["webhook"].url,
                                     "password": WEBHOOK_SECRET},
    }
    sandbox = AirflowSandbox(home=root / "airflow", warehouse=root / "wh.duckdb", reports=root / "reports",
                             connections=connections)
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


def _sync(con, audience: str, destination: str) -> dict[str, int]:
    cursor = con.execute("select * from activation.sync_runs where audience = ? and destination = ?",
                         [audience, destination])
    [row] = cursor.fetchall()
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def test_every_audience_reached_its_destinations_through_the_connections(run):
    _, _, _, con = run
    syncs = con.execute("select audience, destination, status from activation.sync_runs").fetchall()
    assert {(a, d) for a, d, _ in syncs} == {
        ("audience_at_risk_email", "sendgrid:mercator_sendgrid"),
        ("audience_winback_sms", "twilio_sms:mercator_twilio"),
        ("audience_welcome_webhook", "webhook:mercator_welcome_webhook"),
        ("audience_high_value_ads", "google_customer_match"),
        ("audience_high_value_ads", "meta_custom_audience"),
    }, "no outbox fallback when every connection is configured"
    assert {status for *_, status in syncs} == {"succeeded"}
    for row in con.execute("select * from activation.sync_runs").fetchdf().to_dict("records"):
        decided = sum(row[c] for c in ("sent", "unchanged", "held_out", "control_group", "capped", "unconsented",
                                       "suppressed", "invalid", "held_back"))
        outcomes = sum(row[c] for c in ("delivered", "rejected", "opted_out", "unknown", "failed"))
        assert row["members"] == decided and row["sent"] == outcomes, row


def test_sendgrid_list_holds_the_consented_members_not_held_out(run, standins):
    _, _, _, con = run
    sendgrid = standins["sendgrid"]
    sync = _sync(con, "audience_at_risk_email", "sendgrid:mercator_sendgrid")
    [list_id] = [i for i, name in sendgrid.lists.items() if name == "audience_at_risk_email"]
    on_list = sendgrid.list_members(list_id)
    consented = {e.lower() for (e,) in con.execute(
        "select email from marts.dim_customers where email_consent = 'granted' and email is not null").fetchall()}
    audience = con.execute("select count(*) from marts.audience_at_risk_email").fetchone()[0]
    assert sync["members"] == audience and sync["held_out"] > 0
    assert len(on_list) == sync["delivered"] == audience - sync["held_out"] - sync["control_group"] > 0
    assert on_list <= consented


def test_each_winback_sms_went_once_to_a_consented_number(run, standins):
    _, _, _, con = run
    sync = _sync(con, "audience_winback_sms", "twilio_sms:mercator_twilio")
    per_number = Counter(m.to for m in standins["twilio"].messages)
    consented = {p for (p,) in con.execute(
        "select phone from marts.dim_customers where sms_consent = 'granted' and phone is not null").fetchall()}
    assert sync["delivered"] == len(per_number) > 0 and max(per_number.values()) == 1
    assert set(per_number) <= consented


def test_the_welcome_webhook_received_each_member_once(run, standins):
    _, _, _, con = run
    sync = _sync(con, "audience_welcome_webhook", "webhook:mercator_welcome_webhook")
    keys = Counter(m["customer_key"] for m in standins["webhook"].members())
    assert sync["delivered"] == len(keys) > 0 and max(keys.values()) == 1


def _text_columns(con) -> list[tuple[str, str, str]]:
    return con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR' or data_type like '%[]' or data_type like 'STRUCT%' or data_type = 'JSON'"
    ).fetchall()


def test_no_secret_in_any_log_xcom_table_or_report(run):
    sandbox, _, output, con = run
    key = SENTINELS["webhook_key"]
    needles = [SENTINELS["sendgrid"], SENTINELS["sendgrid"].removeprefix("SG."), SENTINELS["twilio"],
               WEBHOOK_SECRET, WEBHOOK_SECRET.removeprefix("whsec_"), key.hex()]
    assert not [n for n in needles if n in output]
    files = [f for folder in (sandbox.home, sandbox.reports) for f in folder.rglob("*") if f.is_file()]
    assert any(f.name == "airflow.db" for f in files) and any(f.suffix == ".log" for f in files)
    shown = {f: f.read_bytes() for f in files}  # Airflow's task logs and XCom, dbt's logs, reports
    leaks = [(f, n) for f, data in shown.items() for n in [*needles, key] if
             (n if isinstance(n, bytes) else n.encode()) in data]
    assert leaks == []
    for schema, table, column in _text_columns(con):
        hits = con.execute(f'select count(*) from "{schema}"."{table}" where '
                           + " or ".join(f'contains(cast("{column}" as varchar), ?)' for _ in needles),
                           needles).fetchone()[0]
        assert hits == 0, f"{schema}.{table}.{column} holds a secret"


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
        "bg_nbd", "mbg_nbd", "pareto_nbd", "gamma_gamma", "churn"}


def test_the_global_control_group_is_reached_by_no_audience(run):
    _, _, _, con = run
    control = {k for (k,) in con.execute(
        "select customer_key from activation.assignments where assignment = 'control'").fetchall()}
    reached = {k for (k,) in con.execute(
        "select customer_key from activation.sync_state where status = 'delivered'").fetchall()}
    assert control and not control & reached
    # one draw for every audience: whoever is in the control group of one is so in all of them
    per_audience = con.execute(
        "select audience, list(customer_key), list(assignment = 'control') from activation.assignments group by 1"
    ).fetchall()
    for _, keys, is_control in per_audience:
        assert {k for k, c in zip(keys, is_control, strict=True) if c} == control & set(keys)


def test_every_audience_send_is_measured_against_its_holdout(run):
    _, _, _, con = run
    assigned = con.execute(
        "select audience, as_of, count(*) filter (where assignment = 'treatment'), "
        "count(*) filter (where assignment = 'holdout') from activation.assignments group by all order by all"
    ).fetchall()
    measured = con.execute(
        "select audience, send_date, treatment_members, holdout_members from marts.campaign_results order by all"
    ).fetchall()
    assert measured == assigned and len(measured) > 0
    as_of = con.execute("select max(as_of) from marts.customer_rfm").fetchone()[0]
    assert {send_date for _, send_date, _, _ in measured} == {as_of}
    verdicts = {v for (v,) in con.execute("select verdict from marts.campaign_results").fetchall()}
    assert verdicts <= {"invalid", "under-powered", "inconclusive", "positive", "negative"}

"""Bad-input corpus, activation kinds: what an audience can hold that must not be sent, and what is done instead.

Every member is accounted for in activation.sync_runs (members = sent + unchanged + held_out + control_group +
capped + unconsented + suppressed + invalid + held_back) and none of these is sent.
"""

from __future__ import annotations

import json

import duckdb
import pytest
from mercator.activation.runner import activate_all

from tests.conftest import REPO_ROOT
from tests.mercator.activation.engine_fixtures import build_warehouse, manifest, opener
from tests.standins.sendgrid_server import API_KEY, SendGridStandin

DBT_PROJECT = REPO_ROOT / "dbt_project"
RUN = "scheduled__2026-03-01T00:00:00+00:00"
PARTS = (
    "sent", "unchanged", "held_out", "control_group", "capped", "unconsented", "suppressed", "invalid", "held_back",
)


def audience_of(warehouse, rows: list[tuple]) -> None:
    """marts.audience_everyone := rows of (customer_key, email, phone, first_name); every consent granted."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.dim_customers set email_consent = 'granted', sms_consent = 'granted'")
        con.execute("create or replace table marts.audience_everyone (customer_key varchar, email varchar,"
                    " phone varchar, first_name varchar, segment varchar)")
        if rows:
            con.executemany("insert into marts.audience_everyone values (?, ?, ?, ?, 'all')", rows)


def sync(tmp_path, warehouse, channel: str, destinations=None) -> dict:
    fields = {"email": {"email": "email", "first_name": "first_name"}, "sms": {"phone": "phone"}}[channel]
    activation = {"channel": channel, "holdout_share": 0.0, "fields": fields,
                  "destinations": destinations or [{"type": "outbox"}]}
    [summary] = activate_all(opener(warehouse), manifest(tmp_path / "manifest.json", activation), RUN,
                             tmp_path / "reports", DBT_PROJECT, tmp_path)
    assert summary["members"] == sum(summary[p] for p in PARTS)
    return summary


def sent(tmp_path) -> list[dict]:
    return [json.loads(line) for f in (tmp_path / "reports" / "outbox").rglob("*.jsonl")
            for line in f.read_text().splitlines()]


@pytest.fixture
def warehouse(tmp_path):
    return build_warehouse(tmp_path / "w.duckdb")


@pytest.mark.parametrize("email", ["not-an-address", "two@@example.com", "spaces in@example.com", "", None])
def test_malformed_or_missing_email_is_invalid(tmp_path, warehouse, email):
    audience_of(warehouse, [("k00", email, None, "A"), ("k02", "p2@example.com", None, "B")])
    summary = sync(tmp_path, warehouse, "email")
    assert (summary["invalid"], summary["sent"]) == (1, 1) and [r["customer_key"] for r in sent(tmp_path)] == ["k02"]


@pytest.mark.parametrize("phone", ["5550100000", "+0155501", "+1 555 010 0000", "phone", None])
def test_malformed_or_missing_phone_is_invalid_for_sms(tmp_path, warehouse, phone):
    audience_of(warehouse, [("k00", None, phone, "A"), ("k03", None, "+15550100003", "B")])
    summary = sync(tmp_path, warehouse, "sms")
    assert summary["invalid"] == 1 and "+15550100003" not in {r.get("phone") for r in sent(tmp_path)}  # STOP


def test_duplicate_keys_are_sent_once(tmp_path, warehouse):
    audience_of(warehouse, [("k02", "p2@example.com", None, "A"), ("k02", "p2@example.com", None, "A")])
    summary = sync(tmp_path, warehouse, "email")
    assert (summary["sent"], summary["invalid"]) == (1, 1) and len(sent(tmp_path)) == 1


def test_an_audience_of_zero_rows_records_an_empty_sync(tmp_path, warehouse):
    audience_of(warehouse, [])
    summary = sync(tmp_path, warehouse, "email")
    assert summary["status"] == "succeeded" and summary["members"] == 0 and not sent(tmp_path)


def test_a_field_over_sendgrids_length_limit_is_rejected_with_its_reason(tmp_path, warehouse, monkeypatch):
    audience_of(warehouse, [("k00", "p0@example.com", None, "x" * 51)] +
                [(f"k{i:02d}", f"p{i}@example.com", None, "Ann") for i in range(2, 40)])
    with SendGridStandin() as server:
        monkeypatch.setenv("AIRFLOW_CONN_MERCATOR_SENDGRID", json.dumps({"password": API_KEY, "host": server.base_url}))
        summary = sync(tmp_path, warehouse, "email", [{"type": "sendgrid", "connection": "mercator_sendgrid",
                                                      "options": {"poll_seconds": 0.01}}])
    assert summary["rejected"] == 1 and summary["delivered"] == summary["sent"] - 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        [(reason,)] = con.execute("select reason from activation.sync_state where status = 'rejected'").fetchall()
    assert "first_name" in reason

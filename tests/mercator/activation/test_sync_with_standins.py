"""The engine with the real SDKs against the stand-ins: closed loop, caps, mirror, erasure, faults, no secret leaks."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pytest
from mercator.activation.runner import activate_all

from tests.mercator.activation.engine_fixtures import (
    CUSTOMERS,
    build_warehouse,
    customer,
    manifest,
    opener,
    write_audience,
)
from tests.standins.sendgrid_server import API_KEY, SendGridStandin
from tests.standins.standin import Faults
from tests.standins.twilio_server import ACCOUNT_SID, AUTH_TOKEN, SENDER, TwilioStandin

DAY1, DAY2 = "scheduled__2026-03-01T00:00:00+00:00", "scheduled__2026-03-02T00:00:00+00:00"
SMS = {"channel": "sms", "holdout_share": 0.0, "fields": {"phone": "phone", "first_name": "first_name"},
       "destinations": [{"type": "twilio_sms", "connection": "mercator_twilio",
                         "options": {"template": "Hi {first_name}, 15% off this week. Reply STOP to opt out."}}]}
EMAIL = {"channel": "email", "mode": "mirror", "holdout_share": 0.0,
         "fields": {"email": "email", "first_name": "first_name"},
         "destinations": [{"type": "sendgrid", "connection": "mercator_sendgrid",
                           "options": {"poll_seconds": 0.01}}]}


@pytest.fixture
def warehouse(tmp_path):
    return build_warehouse(tmp_path / "w.duckdb")


@pytest.fixture(autouse=True)
def caps(monkeypatch):
    monkeypatch.setattr("mercator.activation.runner.frequency_caps", lambda _: {"sms": 7, "email": 3})


@pytest.fixture
def twilio(monkeypatch):
    with TwilioStandin() as server:
        monkeypatch.setenv("AIRFLOW_CONN_MERCATOR_TWILIO", json.dumps({
            "conn_type": "twilio", "login": ACCOUNT_SID, "password": AUTH_TOKEN, "host": server.base_url,
            "extra": {"from_number": SENDER}}))
        yield server


@pytest.fixture
def sendgrid(monkeypatch):
    with SendGridStandin(pending_polls=1) as server:
        monkeypatch.setenv("AIRFLOW_CONN_MERCATOR_SENDGRID",
                           json.dumps({"conn_type": "sendgrid", "password": API_KEY, "host": server.base_url}))
        yield server


def run(tmp_path, warehouse, activation, run_id=DAY1):
    [summary] = activate_all(opener(warehouse), manifest(tmp_path / "manifest.json", activation), run_id,
                             tmp_path / "reports", tmp_path, tmp_path)
    return summary


def sms_granted() -> dict[str, str]:
    return {c[0]: c[2] for c in map(customer, range(CUSTOMERS)) if c[5] == "granted"}


def test_sms_stop_suppresses_for_every_later_send_and_caps_hold_a_second_message(tmp_path, warehouse, twilio):
    granted = sms_granted()
    twilio.stopped.add(granted["k06"])  # replied STOP at Twilio, unknown to the warehouse
    first = run(tmp_path, warehouse, SMS)
    reachable = set(granted) - {"k03"}  # k03's STOP is in the event data (int_contact_suppressions)
    assert first["sent"] == len(reachable) and first["opted_out"] == 1
    assert first["delivered"] == len(reachable) - 1
    with duckdb.connect(str(warehouse)) as con:  # a new message for everyone: the cap holds it back
        con.execute("update marts.audience_everyone set first_name = first_name || ' (2)'")
    second = run(tmp_path, warehouse, SMS, DAY2)
    assert second["sent"] == 0
    assert second["capped"] == first["delivered"] and second["suppressed"] == 2  # k03 and now k06
    per_number = Counter(m.to for m in twilio.messages)
    assert max(per_number.values()) == 1 and granted["k06"] not in per_number


def test_with_injected_faults_no_sms_goes_out_twice_and_unclear_ones_are_held_back(tmp_path, warehouse, monkeypatch):
    faults = Faults(rate_limited=0.1, server_error=0.05, reset_after_write=0.05, seed=3)
    monkeypatch.setattr("mercator.activation.twilio_sms.time.sleep", lambda _: None)
    with TwilioStandin(faults=faults) as server:
        monkeypatch.setenv("AIRFLOW_CONN_MERCATOR_TWILIO", json.dumps({
            "login": ACCOUNT_SID, "password": AUTH_TOKEN, "host": server.base_url, "extra": {"from_number": SENDER}}))
        first = run(tmp_path, warehouse, {**SMS, "destinations": SMS["destinations"]})
        second = run(tmp_path, warehouse, SMS, DAY2)
        per_number = Counter(m.to for m in server.messages)
    assert max(per_number.values()) == 1, "an SMS went out twice"
    assert first["delivered"] + first["unknown"] + first["failed"] == first["sent"]
    assert second["held_back"] == first["unknown"]  # never resent blindly
    assert len(per_number) >= first["delivered"]


def test_mirror_takes_unsubscribed_and_erased_people_off_sendgrid(tmp_path, warehouse, sendgrid, caplog):
    first = run(tmp_path, warehouse, EMAIL)
    [list_id] = sendgrid.lists
    on_list = sendgrid.list_members(list_id)
    assert first["delivered"] == first["sent"] == len(on_list) > 10
    assert sendgrid.requests["search_emails"] == 0, "contact ids are looked up only when a removal needs them"
    sendgrid.unsubscribe("p2@example.com")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table intermediate.int_erasure_requests as select 'r1' as request_id,"
                    " timestamp '2026-03-01' as requested_at, 'k04' as customer_key")
    second = run(tmp_path, warehouse, EMAIL, DAY2)
    assert second["erased"] == 1 and sendgrid.contact("p4@example.com") is None
    assert second["removed"] == 1  # k02, unsubscribed at SendGrid (k04's contact is gone with its erasure)
    assert sendgrid.requests["search_emails"] == 2  # k04's addresses for the erasure, k02's for the removal
    assert sendgrid.contact("p2@example.com") is not None, "mirror removes list membership, keeps the contact"
    assert "p0@example.com" in sendgrid.list_members(list_id) and "p2@example.com" not in sendgrid.list_members(list_id)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        state = dict(con.execute("select customer_key, status from activation.sync_state").fetchall())
        dump = json.dumps([con.execute(f"select * from activation.{t}").fetchall() for t in
                           ("sync_state", "sync_runs", "suppressions")], default=str)
    assert state["k04"] == "erased" and state["k02"] == "removed"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ids = dict(con.execute("select customer_key, remote_id from activation.sync_state").fetchall())
    assert ids["k02"] == sendgrid.contact("p2@example.com").id and ids["k04"] is None  # kept once found
    third = run(tmp_path, warehouse, EMAIL, "scheduled__2026-03-03T00:00:00+00:00")
    assert third["sent"] == third["removed"] == 0 and sendgrid.requests["search_emails"] == 2
    assert API_KEY not in dump and API_KEY not in caplog.text and "@" not in dump


def test_mirror_finds_a_leavers_contact_by_its_address_in_dim_customers_once(tmp_path, warehouse, sendgrid):
    run(tmp_path, warehouse, EMAIL)
    [list_id] = sendgrid.lists
    write_audience(warehouse, [f"k{i:02d}" for i in range(CUSTOMERS) if i != 6])  # k06 leaves the audience
    second = run(tmp_path, warehouse, EMAIL, DAY2)
    assert second["removed"] == 1 and sendgrid.requests["search_emails"] == 1
    assert "p6@example.com" not in sendgrid.list_members(list_id) and sendgrid.contact("p6@example.com")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        [(status, remote_id)] = con.execute("select status, remote_id from activation.sync_state"
                                            " where customer_key = 'k06'").fetchall()
    assert (status, remote_id) == ("removed", sendgrid.contact("p6@example.com").id)

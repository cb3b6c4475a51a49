"""A sync killed mid-send and run again: every member messaged once at most, none lost, at most the
request in flight left unknown (held back, never resent blindly); a SendGrid sync killed while its
jobs were pending is upserted again (idempotent by email) and loses nobody."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import duckdb
from mercator.activation.runner import activate_all

from tests.conftest import REPO_ROOT
from tests.mercator.activation.engine_fixtures import CUSTOMERS, build_warehouse, customer, manifest, opener
from tests.mercator.activation.test_sync_with_standins import EMAIL, SMS
from tests.standins.sendgrid_server import API_KEY, SendGridStandin
from tests.standins.twilio_server import ACCOUNT_SID, AUTH_TOKEN, SENDER, TwilioStandin

DBT_PROJECT = REPO_ROOT / "dbt_project"  # its vars: the frequency caps
RUN1, RUN2 = "scheduled__2026-03-01T00:00:00+00:00", "manual__2026-03-01T01:00:00+00:00"
SYNC = """
import sys
from pathlib import Path
from mercator.activation.runner import activate_all
from tests.mercator.activation.engine_fixtures import opener
root = Path(sys.argv[1])
activate_all(opener(root / "w.duckdb"), root / "manifest.json", sys.argv[2], root / "reports", Path(sys.argv[3]), root)
"""


def test_a_sync_killed_mid_send_then_rerun_messages_everyone_once(tmp_path, monkeypatch):
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    manifest(tmp_path / "manifest.json", SMS)
    with TwilioStandin(processing_seconds=0.15) as server:
        connection = json.dumps({"login": ACCOUNT_SID, "password": AUTH_TOKEN, "host": server.base_url,
                                 "extra": {"from_number": SENDER}})
        monkeypatch.setenv("AIRFLOW_CONN_MERCATOR_TWILIO", connection)
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        proc = subprocess.Popen([sys.executable, "-c", SYNC, str(tmp_path), RUN1, str(DBT_PROJECT)], env=env,
                                start_new_session=True)
        deadline = time.monotonic() + 60
        while len(server.messages) < 4:
            assert proc.poll() is None and time.monotonic() < deadline, "the sync ended before it could be killed"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed_at = len(server.messages)
        [summary] = activate_all(opener(warehouse), tmp_path / "manifest.json", RUN2, tmp_path / "reports",
                                 DBT_PROJECT, tmp_path)
        server.wait_idle()
        per_number = Counter(m.to for m in server.messages)
    eligible = {c[2] for c in map(customer, range(CUSTOMERS)) if c[5] == "granted"} - {"+15550100003"}
    assert 4 <= killed_at < len(eligible), "the kill came mid-send"
    assert max(per_number.values()) == 1, "a member got two messages"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        unknown = {k for (k,) in con.execute("select customer_key from activation.sync_state where status = 'unknown'")
                   .fetchall()}
    assert summary["held_back"] <= 1  # at most the request in flight, reconciled with Twilio's messages
    assert summary["reconciled"] == summary["held_back"] and not unknown
    assert eligible == set(per_number), "a member was lost"


def test_a_sendgrid_sync_killed_while_its_jobs_are_pending_loses_nobody_on_rerun(tmp_path, monkeypatch):
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    manifest(tmp_path / "manifest.json", EMAIL)
    with SendGridStandin(pending_polls=10**6) as server:  # the first sync's jobs stay pending
        monkeypatch.setenv("AIRFLOW_CONN_MERCATOR_SENDGRID", json.dumps({"password": API_KEY, "host": server.base_url}))
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        proc = subprocess.Popen([sys.executable, "-c", SYNC, str(tmp_path), RUN1, str(DBT_PROJECT)], env=env,
                                start_new_session=True)
        deadline = time.monotonic() + 60
        while server.requests["import_status"] < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the sync ended before it could be killed"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("select count(*) from activation.sync_state").fetchall() == [(0,)]
        server.pending_polls = 1
        [summary] = activate_all(opener(warehouse), tmp_path / "manifest.json", RUN2, tmp_path / "reports",
                                 DBT_PROJECT, tmp_path)
        server.wait_idle()
        [list_id] = server.lists
        on_list = server.list_members(list_id)
    eligible = {c[1] for c in map(customer, range(CUSTOMERS)) if c[4] == "granted"} - {"p10@example.com"}
    assert server.writes["upsert_contacts"] == 2, "the rerun upserts the unrecorded members again"
    assert on_list == eligible and len(server.contacts) == len(eligible)
    assert summary["delivered"] == summary["sent"] == len(eligible)

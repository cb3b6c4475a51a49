"""What the receiver writes is read by Mercator's own extract, row for row, as the contract says."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
from mercator.events import Receiver
from mercator.extract import discover, load_entity

from tests.mercator.events.test_receiver import STATUS
from tests.mercator.events.webhooks import post_sendgrid, post_twilio, sendgrid_events


def test_received_events_load_into_raw_without_quarantine(config, signer, landing, tmp_path):
    events = sendgrid_events("x", 300)
    events[0].pop("sg_event_id")  # the contract's fallback key applies
    inbound = {"MessageSid": "SM" + "c" * 32, "From": "+15551230002", "To": "+15559870000", "Body": "STOP"}
    with Receiver(config) as receiver:
        assert post_sendgrid(receiver.url, signer, events[:200]) == 200
        assert post_sendgrid(receiver.url, signer, events[100:]) == 200
        assert post_twilio(receiver.url, "/twilio/status", STATUS) == 200
        assert post_twilio(receiver.url, "/twilio/inbound", inbound) == 200
    (landing / "email/events/.intake-killed.jsonl.tmp").write_text('{"email": "half')  # a crash's leftover

    found = discover(landing)
    assert all(p.name.startswith("intake-") and p.suffix == ".jsonl" for p in found["email/events"])
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    email = load_entity(con, landing, "email/events", "L1").as_dict()
    sms = load_entity(con, landing, "sms/events", "L1").as_dict()
    assert (email["rows_loaded"], email["rows_quarantined"]) == (300, 0)
    assert (sms["rows_loaded"], sms["rows_quarantined"]) == (2, 0)

    first = events[1]
    row = con.execute(
        "select email, event, timestamp, sg_message_id, category from raw.email__events where sg_event_id = ?",
        [first["sg_event_id"]],
    ).fetchone()
    assert row == (
        first["email"],
        first["event"],
        datetime.fromtimestamp(first["timestamp"], UTC),
        first["sg_message_id"],
        '["spring"]',
    )
    assert con.execute("select count(distinct sg_event_id) from raw.email__events").fetchone() == (299,)
    sms_rows = con.execute(
        'select "MessageSid", "MessageStatus", "From", "Body", timestamp from raw.sms__events order by "MessageStatus"'
    ).fetchall()
    assert [r[:4] for r in sms_rows] == [
        (STATUS["MessageSid"], "delivered", STATUS["From"], None),
        (inbound["MessageSid"], "received", inbound["From"], "STOP"),
    ]
    assert all(abs((datetime.now(UTC) - r[4]).total_seconds()) < 60 for r in sms_rows)
    assert con.execute("select count(*) from raw.quarantine").fetchone() == (0,)

"""The receiver over real HTTP on loopback: what it refuses stores nothing, what it accepts is stored once."""

from __future__ import annotations

import json
import time
from dataclasses import replace

from mercator.events import Receiver
from mercator.events.store import LandingStore
from mercator.events.verify import SENDGRID_SIGNATURE, SENDGRID_TIMESTAMP, TWILIO_SIGNATURE_SETTINGS
from twilio.request_validator import RequestValidator

from tests.mercator.events.webhooks import (
    SendGridSigner,
    landing_rows,
    post,
    post_sendgrid,
    post_twilio,
    sendgrid_events,
)

STATUS = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "To": "+15551230001", "From": "+15559870000"}


def stored_files(landing):
    return sorted(p.name for p in landing.glob("*/events/*") if p.is_file())


def test_bad_sendgrid_signatures_are_refused_and_store_nothing(receiver, signer, landing):
    events = sendgrid_events("bad", 3)
    body = json.dumps(events).encode()
    other_key = SendGridSigner()
    tampered = json.dumps(sendgrid_events("bad", 4)).encode()
    headers = signer.headers(body)
    cases = [
        (other_key.headers(body), body, 403),  # signed by another key
        (headers, tampered, 403),  # body changed after signing
        ({**headers, SENDGRID_SIGNATURE: "not base64!"}, body, 403),
        ({**headers, SENDGRID_SIGNATURE: headers[SENDGRID_SIGNATURE][::-1]}, body, 403),
        ({**headers, SENDGRID_TIMESTAMP: str(int(headers[SENDGRID_TIMESTAMP]) + 1)}, body, 403),
        ({SENDGRID_TIMESTAMP: headers[SENDGRID_TIMESTAMP]}, body, 401),
        ({}, body, 401),
    ]
    for request_headers, request_body, status in cases:
        assert post(f"{receiver.url}/sendgrid/events", request_body, request_headers)[0] == status
    assert stored_files(landing) == []


def test_timestamps_more_than_five_minutes_off_are_refused(receiver, signer, landing):
    now = int(time.time())
    assert post_sendgrid(receiver.url, signer, sendgrid_events("stale", 2), timestamp=now - 301) == 403
    assert post_sendgrid(receiver.url, signer, sendgrid_events("future", 2), timestamp=now + 301) == 403
    assert stored_files(landing) == []
    assert post_sendgrid(receiver.url, signer, sendgrid_events("late", 2), timestamp=now - 240) == 200
    assert len(landing_rows(landing, "email/events")) == 2


def test_a_signed_body_that_is_not_an_array_of_events_is_400(receiver, signer, landing):
    for body in (b"not json", b'{"email": "a@example.com"}', b"[1, 2]", b"\xff\xfe[]"):
        status, _ = post(f"{receiver.url}/sendgrid/events", body, signer.headers(body))
        assert status == (403 if body.startswith(b"\xff") else 400)
    assert stored_files(landing) == []


def test_wrong_twilio_signatures_are_refused_and_store_nothing(receiver, landing):
    url = f"{receiver.url}/twilio/status"
    assert post_twilio(receiver.url, "/twilio/status", STATUS, token="another-token") == 403
    assert post_twilio(receiver.url, "/twilio/status", STATUS, signed_url=url + "?x=1") == 403
    assert post_twilio(receiver.url, "/twilio/inbound", STATUS, signed_url=url) == 403  # signed for another path
    signature = RequestValidator("twilio-test-auth-token").compute_signature(url, STATUS)
    form = "&".join(f"{k}={v}" for k, v in {**STATUS, "MessageStatus": "failed"}.items()).replace("+", "%2B")
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    assert post(url, form.encode(), headers)[0] == 403  # a field changed after signing
    assert post(url, form.encode(), {"Content-Type": "application/x-www-form-urlencoded"})[0] == 401
    assert stored_files(landing) == []


def test_the_same_batch_of_1000_events_delivered_twice_is_stored_once_also_after_a_restart(config, signer, landing):
    batch = sendgrid_events("once", 1000)
    with Receiver(config) as receiver:
        assert post_sendgrid(receiver.url, signer, batch) == 200
        assert post_sendgrid(receiver.url, signer, batch) == 200
    rows = landing_rows(landing, "email/events")
    assert len(rows) == 1000
    assert sorted(r["sg_event_id"] for r in rows) == sorted(e["sg_event_id"] for e in batch)
    with Receiver(config) as receiver:  # the index is durable
        assert post_sendgrid(receiver.url, signer, batch[500:] + sendgrid_events("more", 10)) == 200
    assert len(landing_rows(landing, "email/events")) == 1010
    assert rows[0] == batch[0]  # stored as SendGrid sent it


def test_twilio_status_callbacks_and_inbound_messages_become_sms_events(config, landing):
    public = "https://hooks.example.com/mercator"
    with Receiver(replace(config, public_url=public)) as receiver:
        failed = {**STATUS, "MessageStatus": "undelivered", "ErrorCode": "30003", "SmsStatus": "undelivered"}
        inbound = {"MessageSid": "SM" + "b" * 32, "From": "+15551230001", "To": "+15559870000", "Body": "STOP"}
        assert post_twilio(receiver.url, "/twilio/status", STATUS) == 403  # the signed URL is the public one
        assert post_twilio(receiver.url, "/twilio/status", STATUS, signed_url=f"{public}/twilio/status") == 200
        assert post_twilio(receiver.url, "/twilio/status", STATUS, signed_url=f"{public}/twilio/status") == 200
        assert post_twilio(receiver.url, "/twilio/status", failed, signed_url=f"{public}/twilio/status") == 200
        status, reply = post(
            f"{receiver.url}/twilio/inbound",
            "&".join(f"{k}={v}" for k, v in inbound.items()).replace("+", "%2B").encode(),
            {
                "X-Twilio-Signature": RequestValidator("twilio-test-auth-token").compute_signature(
                    f"{public}/twilio/inbound", inbound, "HMAC_SHA256"
                ),
                TWILIO_SIGNATURE_SETTINGS: "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
            },
        )
        assert (status, reply) == (200, b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>')
        missing = {"MessageStatus": "sent", "To": "+15551230001"}
        assert post_twilio(receiver.url, "/twilio/status", missing, signed_url=f"{public}/twilio/status") == 400
    rows = landing_rows(landing, "sms/events")
    assert [(r["MessageSid"], r["MessageStatus"], r.get("ErrorCode")) for r in rows] == [
        (STATUS["MessageSid"], "delivered", None),
        (STATUS["MessageSid"], "undelivered", "30003"),
        (inbound["MessageSid"], "received", None),
    ]
    assert rows[2]["Body"] == "STOP" and rows[2]["From"] == inbound["From"]
    assert all(r["timestamp"].endswith("Z") for r in rows)
    assert "SmsStatus" not in rows[1]  # contract columns only


def test_other_paths_methods_and_oversized_bodies(config, landing):
    small = replace(config, max_body_bytes=1000)
    with Receiver(small) as receiver:
        assert post(f"{receiver.url}/healthz", b"", method="GET") == (200, b'{"status": "ok"}')
        assert post(f"{receiver.url}/healthz", b"")[0] == 405
        assert post(f"{receiver.url}/sendgrid/events", b"", method="GET")[0] == 405
        assert post(f"{receiver.url}/sendgrid/events", b"[]", method="PUT")[0] == 405
        assert post(f"{receiver.url}/nowhere", b"[]")[0] == 404
        assert post(f"{receiver.url}/nowhere", b"", method="GET")[0] == 404
        assert post(f"{receiver.url}/sendgrid/events", b"[" + b" " * 2000 + b"]")[0] == 413
    assert stored_files(landing) == []


def test_a_file_renamed_before_its_index_commit_is_indexed_on_the_next_open(landing):
    """A crash between rename and index commit, and one before the rename (a temp file left)."""
    store = LandingStore(landing)
    events = sendgrid_events("crash", 5)
    store._write_file(landing / "email/events", events)  # what append writes, without the index update
    (landing / "email/events/.intake-interrupted.jsonl.tmp").write_text('{"half": ')
    store.close()
    store = LandingStore(landing)
    assert store.append("email/events", events).stored == 0
    assert not list((landing / "email/events").glob(".*"))
    store.close()
    (landing / ".mercator-events/index.sqlite").unlink()  # the index is rebuilt from the files
    store = LandingStore(landing)
    assert store.append("email/events", events + sendgrid_events("new", 1)).stored == 1
    store.close()
    assert len(landing_rows(landing, "email/events")) == 6

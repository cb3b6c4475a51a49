"""Provider payloads as landing rows of the data contract, and each row's dedupe key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime

EMAIL_FALLBACK_KEY = ("email", "event", "timestamp", "sg_message_id", "url")
SMS_STATUS_COLUMNS = ("MessageSid", "To", "From", "MessageStatus", "ErrorCode")
SMS_INBOUND_COLUMNS = ("MessageSid", "To", "From", "Body")


class Malformed(ValueError):
    """A signed body that is not the provider's format (answered 400)."""


def sendgrid_events(body: bytes) -> list[dict]:
    """The objects of an Event Webhook body (a JSON array of objects), kept as SendGrid sent them."""
    try:
        events = json.loads(body)
    except ValueError:
        raise Malformed("body is not JSON") from None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise Malformed("body is not a JSON array of objects")
    return events


def email_key(row: Mapping) -> str:
    """`sg_event_id`; where it is missing, a hash of the contract's fallback key columns."""
    event_id = row.get("sg_event_id")
    if isinstance(event_id, str) and event_id:
        return event_id
    fallback = json.dumps([row.get(name) for name in EMAIL_FALLBACK_KEY], sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(fallback.encode()).hexdigest()


def sms_row(form: Mapping[str, list[str]], inbound: bool, received_at: datetime) -> dict:
    """A Twilio status callback or inbound message as an `sms/events` row (contract columns only).

    An inbound message gets MessageStatus `received`; `timestamp` is the receive time (Twilio sends none).
    """
    columns = SMS_INBOUND_COLUMNS if inbound else SMS_STATUS_COLUMNS
    row = {name: form[name][0] for name in columns if form.get(name)}
    if inbound:
        row["MessageStatus"] = "received"
    missing = [name for name in ("MessageSid", "MessageStatus") if not row.get(name)]
    if missing:
        raise Malformed(f"missing {', '.join(missing)}")
    row["timestamp"] = received_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return row


def sms_key(row: Mapping) -> str:
    """The contract's key of `sms/events`: MessageSid and MessageStatus."""
    return f"{row.get('MessageSid')}:{row.get('MessageStatus')}"

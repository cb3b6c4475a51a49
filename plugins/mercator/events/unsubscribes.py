"""SendGrid's global unsubscribes pulled into `email/events`, incrementally by time.

Each pull asks `GET /v3/suppression/unsubscribes` for the unsubscribes created from the previous
pull's end time (kept in the landing dir's event index, committed with the rows) up to now, page
by page, and stores them as `unsubscribe` events whose `sg_event_id` is derived from the address
and time: what two pulls both return (SendGrid's bounds are inclusive) or a webhook-style replay
is stored once. A pull that fails stores nothing and keeps the previous end time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sendgrid import SendGridAPIClient

from mercator.events.store import LandingStore

log = logging.getLogger(__name__)

PAGE_SIZE = 500  # the endpoint's largest page
STATE_KEY = "sendgrid.unsubscribes.end_time"


@dataclass(frozen=True)
class Pulled:
    start_time: int
    end_time: int
    fetched: int
    stored: int


def pull_unsubscribes(client: SendGridAPIClient, landing: Path, *, now: float | None = None) -> Pulled:
    """Store the global unsubscribes created since the last pull (from unix time 0 the first time)."""
    store = LandingStore(landing)
    try:
        start = int(store.state(STATE_KEY) or 0)
        end = max(start, int(time.time() if now is None else now))
        rows = [unsubscribe_event(item) for item in _unsubscribes(client, start, end)]
        appended = store.append("email/events", rows, state={STATE_KEY: str(end)})
    finally:
        store.close()
    log.info("unsubscribes %d..%d: %d fetched, %d new", start, end, len(rows), appended.stored)
    return Pulled(start, end, len(rows), appended.stored)


def unsubscribe_event(item: dict) -> dict:
    """A suppression entry (`email`, `created`) as an `email/events` row with a deterministic id."""
    email, created = item["email"], int(item["created"])
    digest = hashlib.sha256(f"{email}\n{created}".encode()).hexdigest()[:32]
    return {"email": email, "timestamp": created, "event": "unsubscribe", "sg_event_id": f"unsubscribe-{digest}"}


def _unsubscribes(client: SendGridAPIClient, start: int, end: int) -> Iterator[dict]:
    offset = 0
    while True:
        response = client.client.suppression.unsubscribes.get(
            query_params={"start_time": start, "end_time": end, "limit": PAGE_SIZE, "offset": offset}
        )
        page = json.loads(response.body)
        yield from page
        if len(page) < PAGE_SIZE:
            return
        offset += PAGE_SIZE

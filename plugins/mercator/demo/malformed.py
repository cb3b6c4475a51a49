"""Deliberately malformed rows for testing quarantine; good rows are never touched."""

from __future__ import annotations

import random

from mercator.contract import Entity

KINDS = ("bad_number", "bad_timestamp", "missing_key", "wrong_column_count")
ID_COLUMN = {
    "shop/orders": "order_id",
    "shop/order_items": "order_id",
    "pos/transactions": "transaction_id",
    "crm/contacts": "contact_id",
    "web/events": "event_id",
    "app/events": "event_id",
    "email/events": "sg_message_id",
    "sms/events": "MessageSid",
    "ads/spend": "campaign_id",
}
BAD_NUMBERS = ("12,5O", "abc", "1.2.3", "$ 4O.00", "--7")
BAD_TIMESTAMPS = ("31/13/2025 25:61", "yesterday", "2025-02-30T10:00:00Z", "00:00", "2025-13-01")


def _columns_of(entity: Entity, kinds: tuple[str, ...]) -> list[int]:
    """Indexes of the entity's columns of these types, required ones first if any."""
    found = [i for i, c in enumerate(entity.columns) if c.type in kinds]
    required = [i for i in found if entity.columns[i].required]
    return required or found


def malformed_row(rng: random.Random, entity: Entity, good: list[object]) -> tuple[str, list[object]]:
    """A broken copy of a good row under a fresh id: (kind, values)."""
    names = [c.name for c in entity.columns]
    numbers = _columns_of(entity, ("money", "int"))
    times = _columns_of(entity, ("timestamp", "unix_timestamp", "date"))
    kinds = [k for k in KINDS if (k != "bad_number" or numbers) and (k != "bad_timestamp" or times)]
    kind = rng.choice(kinds)
    row = list(good)
    row[names.index(ID_COLUMN[entity.path])] = f"bad-{rng.getrandbits(48):012x}"
    if kind == "bad_number":
        row[rng.choice(numbers)] = rng.choice(BAD_NUMBERS)
    elif kind == "bad_timestamp":
        row[rng.choice(times)] = rng.choice(BAD_TIMESTAMPS)
    elif kind == "missing_key":
        row[names.index(entity.required[0])] = ""
    else:
        row += ["unexpected", "extra"]
    return kind, row

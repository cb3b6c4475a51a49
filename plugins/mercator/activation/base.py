"""The destination plugin contract, in the shape of dbt-duckdb's plugins.

One module per destination exposing one `Destination` subclass; its settings are
parsed into a typed dataclass (`config_class`); operations a destination cannot
do raise `NotImplementedError`. `sync` is shared: read the audience, diff it
against the sync ledger, `send` only new or changed members, record them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mercator.activation import ledger

# What leaves the warehouse: the address and first name to write to, nothing else personal.
PAYLOAD_COLUMNS = ("customer_key", "email", "first_name", "segment", "audience")


@dataclass(frozen=True)
class SyncPlan:
    audience: str
    to_send: list[dict] = field(default_factory=list)
    unchanged: int = 0
    without_email: int = 0
    reason: str = ""


@dataclass(frozen=True)
class SendResult:
    destination: str
    audience: str
    run_id: str
    sent: int
    unchanged: int = 0
    without_email: int = 0
    location: str = ""
    reason: str = ""

    def summary(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v not in ("", None)}


def payload_hash(row: dict) -> str:
    return hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()


def run_date_of(run_id: str) -> str:
    """The date in an Airflow run id (`scheduled__2026-03-01T...`), else the run id made file-safe."""
    found = re.search(r"\d{4}-\d{2}-\d{2}", run_id)
    return found.group(0) if found else re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)


class Destination:
    """Base class for audience destinations."""

    name: ClassVar[str]
    config_class: ClassVar[type]

    def __init__(self, config: Any) -> None:
        if not isinstance(config, self.config_class):
            raise TypeError(f"{type(self).__name__} needs a {self.config_class.__name__}, got {type(config)}")
        self.config = config

    @classmethod
    def from_dict(cls, settings: dict) -> Destination:
        """Build from plain settings (e.g. an Airflow connection's extras); unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls.config_class)}
        unknown = set(settings) - known
        if unknown:
            raise ValueError(f"{cls.name}: unknown settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(cls.config_class(**settings))

    def send(self, audience: str, rows: list[dict], run_id: str, run_date: str) -> str:
        """Deliver rows (payloads) to the destination; returns where they went. Must be idempotent per run."""
        raise NotImplementedError(f"{self.name} cannot send")

    def remove(self, audience: str, customer_keys: list[str], run_id: str) -> str:
        """Take members out of the audience at the destination."""
        raise NotImplementedError(f"{self.name} cannot remove audience members")

    def plan(self, con, audience: str, run_id: str) -> SyncPlan:
        """The audience's members that are new or changed since this destination last synced them."""
        if not ledger.table_exists(con, "marts", audience):
            return SyncPlan(audience, reason=f"skipped: no audience table marts.{audience}")
        columns = ", ".join(PAYLOAD_COLUMNS)
        members = con.execute(f"select {columns} from marts.{audience} order by customer_key").fetchall()
        rows = [dict(zip(PAYLOAD_COLUMNS, m, strict=True)) for m in members]
        with_email = [r for r in rows if r["email"] and str(r["email"]).strip()]
        synced = ledger.last_hashes(con, self.name, audience, exclude_run_id=run_id)
        to_send = [r for r in with_email if synced.get(r["customer_key"]) != payload_hash(r)]
        return SyncPlan(audience, to_send, len(with_email) - len(to_send), len(rows) - len(with_email))

    def sync(self, con, audience: str, run_id: str, run_date: str | None = None) -> SendResult:
        """Send what `plan` finds and record it in the ledger.

        The file/batch for a run date holds every payload queued that day, so a retry
        of the same run_id (which plans against other runs only) sends identical content.
        """
        run_date = run_date or run_date_of(run_id)
        plan = self.plan(con, audience, run_id)
        if plan.reason:
            return SendResult(self.name, audience, run_id, 0, reason=plan.reason)
        ledger.record(con, self.name, audience, run_id, run_date, plan.to_send, payload_hash)
        location = self.send(audience, ledger.payloads(con, self.name, audience, run_date), run_id, run_date)
        return SendResult(
            self.name, audience, run_id, len(plan.to_send), plan.unchanged, plan.without_email, location
        )

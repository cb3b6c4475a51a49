"""The destination plugin contract, in the shape of dbt-duckdb's plugins.

One module per destination exposing one `Destination` subclass; its options (from the audience's
`meta.activation.destinations[]` entry) are parsed into a typed dataclass (`config_class`), its
credentials come from an Airflow connection (`Connection`); operations a destination cannot do
raise `NotImplementedError`. The sync engine (mercator.activation.sync) decides who is sent what
(consent, suppression, caps, holdouts, diff against the sync state) and calls `upsert` / `remove`
with batches of at most `max_batch` members; a destination only talks to its API and reports one
`Outcome` per member it was given, never raising for a member-level problem.

Outcome statuses:
- `delivered`: the destination acknowledged it (SendGrid: the import job reached a final status
  and the row is not among its errors; Twilio: a message sid; webhook: a 2xx).
- `rejected`: the destination refused it for a reason that a retry of the same payload cannot fix
  today (invalid address, 21211); retried on later runs.
- `suppressed`: the person opted out at the destination (21610, an unsubscribe); suppresses them
  for every later send.
- `unknown`: the request may or may not have been applied (a timeout or 5xx after a message
  send). The engine never resends it blindly: it is reconciled by `reconcile`, else held back.
- `failed`: a transient failure that exhausted its retries; retried on the next run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

DELIVERED, REJECTED, SUPPRESSED, UNKNOWN, FAILED = "delivered", "rejected", "suppressed", "unknown", "failed"
OUTCOMES = (DELIVERED, REJECTED, SUPPRESSED, UNKNOWN, FAILED)
CHANNELS = ("email", "sms", "ads", "webhook")


def run_date_of(run_id: str) -> str:
    """The date in an Airflow run id (`scheduled__2026-03-01T...`), else the run id made file-safe."""
    found = re.search(r"\d{4}-\d{2}-\d{2}", run_id)
    return found.group(0) if found else re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)


class ConfigError(ValueError):
    """An audience's activation config or a destination's options are wrong; nothing was sent."""


@dataclass(frozen=True)
class Connection:
    """An Airflow connection's fields. Never logged: `__repr__` hides the password."""

    conn_id: str
    conn_type: str = ""
    host: str = ""
    port: int | None = None
    schema: str = ""
    login: str = ""
    password: str = field(default="", repr=False)
    extra: dict = field(default_factory=dict)

    def base_url(self, default_host: str, default_scheme: str = "https") -> str:
        """`scheme://host[:port]` from host (which may carry its own scheme), port and schema."""
        host = self.host or default_host
        if "://" in host:
            parts = urlsplit(host)
            scheme, host = parts.scheme, parts.netloc + parts.path.rstrip("/")
        else:
            scheme = self.schema or default_scheme
        return f"{scheme}://{host}" + (f":{self.port}" if self.port else "")


def get_connection(conn_id: str) -> Connection:
    """The Airflow connection `conn_id`: from Airflow when running in a task, else from the
    environment variable AIRFLOW_CONN_<CONN_ID> (JSON, as Airflow reads it)."""
    try:
        from airflow.sdk import Connection as AirflowConnection

        found = AirflowConnection.get(conn_id)
        return Connection(
            conn_id,
            found.conn_type or "",
            found.host or "",
            found.port,
            found.schema or "",
            found.login or "",
            found.password or "",
            found.extra_dejson,
        )
    except Exception:  # outside a task (tests, CLI) Airflow cannot resolve it: read the environment
        raw = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        if not raw:
            raise ConfigError(f"no Airflow connection {conn_id!r} (set AIRFLOW_CONN_{conn_id.upper()})") from None
        data = json.loads(raw)
        extra = data.get("extra") or {}
        return Connection(
            conn_id,
            data.get("conn_type", ""),
            data.get("host") or "",
            data.get("port"),
            data.get("schema") or "",
            data.get("login") or "",
            data.get("password") or "",
            json.loads(extra) if isinstance(extra, str) else extra,
        )


@dataclass(frozen=True)
class Member:
    """One audience member as a destination sees it: its key, the mapped fields to send (the
    channel's identifier among them), the hash of those fields, and the id the destination gave it."""

    customer_key: str
    fields: dict[str, Any]
    payload_hash: str
    remote_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    customer_key: str
    status: str
    reason: str = ""
    remote_id: str | None = None

    def __post_init__(self) -> None:
        if self.status not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.status!r}; known: {OUTCOMES}")


@dataclass(frozen=True)
class Suppression:
    """An opt-out learned from a destination (closed loop): `identifier_type` email or phone."""

    identifier_type: str
    identifier_value: str
    reason: str
    occurred_at: str


class Destination:
    """Base class: typed options, a connection, capabilities, and the operations the engine calls."""

    kind: ClassVar[str]
    config_class: ClassVar[type]
    channels: ClassVar[tuple[str, ...]]  # the audience channels this destination can serve
    identifier: ClassVar[str]  # the member field it cannot do without: email or phone
    delivers_messages: ClassVar[bool] = False  # True: each upsert sends a message (caps apply, no blind retry)
    max_batch: ClassVar[int] = 1_000
    members_per_request: ClassVar[int] = 1  # message destinations: journaled per request (sync.py)
    needs_connection: ClassVar[bool] = True
    finds_contacts_by_email: ClassVar[bool] = False  # True: removals and erasures carry the members' addresses

    def __init__(self, config: Any, connection: Connection | None = None) -> None:
        if not isinstance(config, self.config_class):
            raise TypeError(f"{type(self).__name__} needs a {self.config_class.__name__}, got {type(config)}")
        self.config = config
        self.connection = connection

    @classmethod
    def parse_options(cls, options: dict):
        """The options dataclass; unknown, missing or invalid keys are a ConfigError."""
        known = {f.name for f in dataclasses.fields(cls.config_class)}
        unknown = set(options) - known
        if unknown:
            raise ConfigError(f"{cls.kind}: unknown option(s) {sorted(unknown)}; known: {sorted(known)}")
        try:
            return cls.config_class(**options)
        except TypeError as error:
            raise ConfigError(f"{cls.kind}: {error}") from None

    @classmethod
    def from_options(cls, options: dict, connection: Connection | None = None) -> Destination:
        """Build from an audience's destination options and its connection."""
        return cls(cls.parse_options(options), connection)

    def validate_fields(self, available_fields) -> None:
        """ConfigError when the audience lacks a field this destination needs (override where it matters)."""

    def prepare(self, audience: str) -> None:
        """Create what the sync needs at the destination (a list, custom fields); idempotent."""

    def upsert(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        """Add or update members (a message destination sends each one its message)."""
        raise NotImplementedError(f"{self.kind} cannot add members")

    def remove(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        """Take members out of the audience at the destination (mirror mode); `delivered` = removed."""
        raise NotImplementedError(f"{self.kind} cannot remove members")

    def erase(self, members: list[Member]) -> list[Outcome]:
        """Delete these people at the destination (erasure requests); `delivered` = deleted."""
        raise NotImplementedError(f"{self.kind} cannot erase people")

    def reconcile(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        """Find out what happened to members whose outcome was `unknown` (`unknown` if still unclear)."""
        return [Outcome(m.customer_key, UNKNOWN, "cannot be reconciled") for m in members]

    def suppressions(self, since: str | None) -> list[Suppression]:
        """Opt-outs recorded at the destination since `since` (ISO time; None: all)."""
        return []

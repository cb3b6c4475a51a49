"""SendGrid Mail Send: each member gets one message from a dynamic template (triggered journeys).

Each member is one personalization (to: its email) with its `dynamic_template_data` and
`custom_args`; requests carry at most 1,000 personalizations (so 1,000 recipients) and stay under
30 MB. Custom args come back on every event of the message: `campaign` (the audience: the
`campaign` column of email/events), `mercator_customer` (customer_key), `mercator_run` (run id) and
the configured member fields, all as strings.

What each answer means for the members of a request:
- 202 (200 in sandbox mode): delivered, remote_id = the request's X-Message-Id (each recipient's
  `sg_message_id` in events begins with it);
- 400: the personalizations SendGrid's errors name are rejected with its message and the others
  sent again; an error naming another field (template_id, from) rejects every member; one naming
  no field halves the request down to the members at fault. 404, 413: rejected;
- 401, 403: failed (the key or the sender is refused), and nothing more is sent in this call;
- 429, 5xx: retried by SendGridClient, then failed (SendGrid answered that it did not take it);
- no answer: a request that never reached SendGrid whole is retried, then failed; a timeout or a
  lost connection after it was written is `unknown`. Mail Send has no idempotency key, so such a
  request is never retried and the engine holds its members back.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock
from decimal import Decimal

from mercator.activation.destination import (
    DELIVERED,
    FAILED,
    REJECTED,
    UNKNOWN,
    ConfigError,
    Connection,
    Destination,
    Member,
    Outcome,
    Suppression,
)
from mercator.activation.sendgrid import ADDRESS
from mercator.activation.sendgrid_client import SendGridClient, SendGridError, as_json, sized_batches

log = logging.getLogger(__name__)

MAX_PERSONALIZATIONS = 1_000  # per request; one recipient each, so also the 1,000 recipients
MAX_MAIL_BYTES = 30_000_000  # the whole request, below SendGrid's 30 MB
MAX_CUSTOM_ARGS_BYTES = 10_000  # per personalization
MAX_CATEGORIES, MAX_CATEGORY_CHARS = 10, 255
TEMPLATE_ID = re.compile(r"d-[0-9a-f]{32}")
# Set by Mercator, or fields of SendGrid's events that a custom arg of the same name would overwrite.
RESERVED_ARGS = frozenset(
    "campaign mercator_customer mercator_run email timestamp event sg_event_id sg_message_id smtp-id category url "
    "reason type status response attempt asm_group_id ip useragent tls".split()
)
NAMED_PERSONALIZATION = re.compile(r"personalizations\.(\d+)(?:\.(.+))?")  # and the field within it


@dataclass(frozen=True)
class SendGridMailOptions:
    """`template_data`: member fields in dynamic_template_data (None: every field but the email);
    `custom_args`: member fields added as custom args. Waits are in seconds."""

    template_id: str
    from_email: str
    from_name: str | None = None
    asm_group_id: int | None = None
    categories: tuple[str, ...] | list[str] = ()
    template_data: tuple[str, ...] | list[str] | None = None
    custom_args: tuple[str, ...] | list[str] = ()
    sandbox_mode: bool = False
    timeout_seconds: float = 30.0  # per request
    max_attempts: int = 6  # per request

    def __post_init__(self) -> None:
        if not isinstance(self.template_id, str) or not TEMPLATE_ID.fullmatch(self.template_id):
            raise ConfigError("sendgrid_mail: template_id must be a dynamic template id (d- and 32 hex digits)")
        if not isinstance(self.from_email, str) or not ADDRESS.fullmatch(self.from_email):
            raise ConfigError("sendgrid_mail: from_email must be an email address")
        if self.asm_group_id is not None and (type(self.asm_group_id) is not int or self.asm_group_id < 1):
            raise ConfigError("sendgrid_mail: asm_group_id must be a positive integer")
        for option in ("categories", "template_data", "custom_args"):
            if getattr(self, option) is not None:
                object.__setattr__(self, option, _names(option, getattr(self, option)))
        if len(self.categories) > MAX_CATEGORIES or any(len(c) > MAX_CATEGORY_CHARS for c in self.categories):
            raise ConfigError(f"sendgrid_mail: at most {MAX_CATEGORIES} categories of {MAX_CATEGORY_CHARS} characters")
        reserved = sorted(RESERVED_ARGS.intersection(self.custom_args))
        if reserved:
            raise ConfigError(
                f"sendgrid_mail: custom_args {reserved} are reserved (set by Mercator or by SendGrid's events)"
            )
        if self.timeout_seconds <= 0 or self.max_attempts < 1:
            raise ConfigError("sendgrid_mail: timeout_seconds and max_attempts must be positive")


def _names(option: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"sendgrid_mail: {option} must be a list of names")
    return tuple(value)


class SendGridMailDestination(Destination):
    """Sends each member one templated email; the API key is the connection's password.

    `reconcile` keeps the base behaviour (an unknown outcome stays unknown, held back by the engine):
    finding out whether a message went out needs the Email Activity API, a paid add-on."""

    kind = "sendgrid_mail"
    config_class = SendGridMailOptions
    channels = ("email",)
    identifier = "email"
    delivers_messages = True
    max_batch = MAX_PERSONALIZATIONS
    members_per_request = MAX_PERSONALIZATIONS  # journaled per request (a request split by size: as one)

    def __init__(self, config: SendGridMailOptions, connection: Connection | None = None) -> None:
        super().__init__(config, connection)
        self.client = SendGridClient.of_connection(self.kind, connection, config.timeout_seconds, config.max_attempts)
        envelope: dict = {
            "from": {"email": config.from_email, **({"name": config.from_name} if config.from_name else {})},
            "template_id": config.template_id,
        }
        if config.categories:
            envelope["categories"] = list(config.categories)
        if config.asm_group_id is not None:
            envelope["asm"] = {"group_id": config.asm_group_id}
        if config.sandbox_mode:
            envelope["mail_settings"] = {"sandbox_mode": {"enable": True}}
        self._prefix = as_json({**envelope, "personalizations": []})[:-2]  # the body up to its personalizations

    def validate_fields(self, available_fields: Iterable[str]) -> None:
        """ConfigError naming the fields (email, template data, custom args) the audience does not provide."""
        wanted = {self.identifier, *self.config.custom_args, *(self.config.template_data or ())}
        missing = sorted(wanted - set(available_fields))
        if missing:
            raise ConfigError(
                f"sendgrid_mail: the audience lacks field(s) {missing} (the email, template_data or custom_args)"
            )

    def upsert(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        """Send every member its message, in requests of at most 1,000 personalizations and 30 MB."""
        outcomes: dict[int, Outcome] = {}
        ready = []  # (member index, personalization JSON, its size)
        overhead = len(self._prefix) + 2
        for n, member in enumerate(members):
            text, problem = self._personalization(member, audience, run_id)
            if not problem and overhead + len(text) > MAX_MAIL_BYTES:
                problem = f"message over {MAX_MAIL_BYTES:,} bytes"
            if problem:
                outcomes[n] = Outcome(member.customer_key, REJECTED, problem)
            else:
                ready.append((n, text, len(text)))
        refused = ""
        for batch in sized_batches(ready, overhead, MAX_PERSONALIZATIONS, MAX_MAIL_BYTES):
            if refused:
                outcomes.update({n: Outcome(members[n].customer_key, FAILED, refused) for n, *_ in batch})
            else:
                refused = self._send(batch, members, outcomes)
        log.info("sendgrid_mail %s: %s", audience, dict(Counter(o.status for o in outcomes.values())))
        return [outcomes[n] for n in range(len(members))]

    def _personalization(self, member: Member, audience: str, run_id: str) -> tuple[str, str]:
        """The member's personalization as JSON, or why it cannot be sent."""
        email = str(member.fields.get("email") or "").strip()
        if not email:
            return "", "no email"
        names = self.config.template_data
        data = {
            name: _json_value(member.fields.get(name))
            for name in (names if names is not None else [k for k in member.fields if k != "email"])
        }
        args = {"campaign": audience, "mercator_customer": member.customer_key, "mercator_run": run_id}
        args |= {
            name: str(member.fields[name]) for name in self.config.custom_args if member.fields.get(name) is not None
        }
        if len(as_json(args)) > MAX_CUSTOM_ARGS_BYTES:
            return "", f"custom args over {MAX_CUSTOM_ARGS_BYTES:,} bytes"
        return as_json({"to": [{"email": email}], "dynamic_template_data": data, "custom_args": args}), ""

    def _send(self, batch: list[tuple[int, str, int]], members: list[Member], outcomes: dict[int, Outcome]) -> str:
        """POST a batch's personalizations and record each member's outcome, sending again what a 400
        did not name (see the module docstring); the reason when the key or sender was refused."""
        pending = [batch]
        while pending:
            part = pending.pop()
            try:
                response = self.client.request(
                    "POST", "mail/send", self._prefix + ", ".join(t for _, t, _ in part) + "]}", idempotent=False
                )
            except SendGridError as error:
                if error.status in (401, 403):
                    for n, *_ in [item for waiting in (part, *pending) for item in waiting]:
                        outcomes[n] = Outcome(members[n].customer_key, FAILED, str(error))
                    return str(error)
                pending += self._refused(part, error, members, outcomes)
                continue
            reason = "sandbox mode: validated, not sent" if self.config.sandbox_mode else ""
            message_id = response.headers.get("X-Message-Id")
            outcomes.update({n: Outcome(members[n].customer_key, DELIVERED, reason, message_id) for n, *_ in part})
        return ""

    def _refused(
        self,
        part: list[tuple[int, str, int]],
        error: SendGridError,
        members: list[Member],
        outcomes: dict[int, Outcome],
    ) -> list[list[tuple[int, str, int]]]:
        """Outcomes of a request that failed for good; the parts of it to send again (after a 400)."""
        if error.status == 400:
            named: dict[int, list[str]] = {}
            for message, field in error.errors:
                found = NAMED_PERSONALIZATION.fullmatch(field or "")
                if found and int(found.group(1)) < len(part):
                    within = f" ({found.group(2)})" if found.group(2) else ""
                    named.setdefault(int(found.group(1)), []).append(message + within)
            if named:
                for index, messages in named.items():
                    n = part[index][0]
                    outcomes[n] = Outcome(members[n].customer_key, REJECTED, "400 " + "; ".join(messages))
                rest = [item for index, item in enumerate(part) if index not in named]
                return [rest] if rest else []
            if len(part) > 1 and not any(field for _, field in error.errors):
                return [part[: len(part) // 2], part[len(part) // 2 :]]
        if error.status is None:
            status = UNKNOWN if error.written else FAILED
            reason = f"{error}: the message may have been sent" if error.written else str(error)
        else:
            status, reason = (FAILED if error.status == 429 or error.status >= 500 else REJECTED), str(error)
        outcomes.update({n: Outcome(members[n].customer_key, status, reason) for n, *_ in part})
        return []

    def suppressions(self, since: str | None) -> list[Suppression]:
        """Global and group unsubscribes, bounces and spam reports created at or after `since`."""
        return self.client.suppressions(since)


def _json_value(value: object) -> object:
    """A member field as JSON for the template: dates as ISO text, decimals as numbers, NaN as null."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Decimal | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, date | datetime | clock):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)

"""Twilio SMS destination: one message per member from a template, with the official `twilio` SDK.

Credentials come only from the connection (e.g. `mercator_twilio`): login = account SID,
password = auth token, extra `messaging_service_sid` or `from_number` (one is required), host (and
port, schema) for a non-default API base. Twilio has no idempotency key, so a request whose answer
is lost (a read timeout, a reset connection, a 5xx) may have sent the SMS: it is reported `unknown`
and never retried. Only what Twilio documents as never processed (429 / 20429) and a connection
that was never opened are retried, with backoff.

A later run reconciles an `unknown` member by listing the messages Twilio holds for its number
(from the connection's sender): one with the same body means it went out (`delivered`, with its
sid); none at all means the request never reached Twilio, and it is sent now; other messages but
not this body stay `unknown` (the fields may have changed since: never guessed).
"""

from __future__ import annotations

import logging
import re
import string
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout, RequestException
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from mercator.activation.destination import (
    DELIVERED,
    FAILED,
    REJECTED,
    SUPPRESSED,
    UNKNOWN,
    ConfigError,
    Connection,
    Destination,
    Member,
    Outcome,
)

log = logging.getLogger(__name__)
# The SDK logs every request at INFO, the query (a listed number) among it: kept to warnings, so
# that no phone number reaches a log, and 10,000 messages do not write 100,000 log lines.
SDK_LOG = log.getChild("sdk")
SDK_LOG.setLevel(logging.WARNING)

E164 = re.compile(r"\+[1-9]\d{7,14}")  # "+" and 8 to 15 digits
MAX_BODY_CHARS = 1_600
MAX_ATTEMPTS = 5  # per member, for a 429 or a connection that was never opened
BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 1.0, 30.0
FIELD_NAME = re.compile(r"[A-Za-z_]\w*")
REJECT_CODES = {21211: "invalid number", 21614: "not SMS-capable"}
RECONCILE_LOOKBACK = 200  # newest messages to a number looked at when reconciling


@dataclass(frozen=True)
class TwilioSmsOptions:
    """`template`: the body, with `{field}` placeholders filled from the member's fields;
    `status_callback`: an http(s) URL Twilio reports delivery statuses to."""

    template: str
    status_callback: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.template, str) or not self.template.strip():
            raise ConfigError("twilio_sms: option 'template' must be a non-empty string")
        template_fields(self.template)
        if self.status_callback is not None and urlsplit(self.status_callback).scheme not in ("http", "https"):
            raise ConfigError("twilio_sms: option 'status_callback' must be an http(s) URL")


def template_fields(template: str) -> set[str]:
    """The field names a template uses; ConfigError for anything but plain `{name}` placeholders."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ConfigError(f"twilio_sms: template is malformed ({error})") from None
    names = set()
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if not FIELD_NAME.fullmatch(name) or spec or conversion:
            raise ConfigError(f"twilio_sms: template placeholder {{{name}}} must be a plain field name like "
                              "{first_name}")
        names.add(name)
    return names


class TwilioSmsDestination(Destination):
    """Sends each member one SMS; `remote_id` is the message sid. Cannot remove or erase."""

    kind = "twilio_sms"
    config_class = TwilioSmsOptions
    channels = ("sms",)
    identifier = "phone"
    delivers_messages = True
    max_batch = 100

    def __init__(self, config: TwilioSmsOptions, connection: Connection | None = None, *,
                 timeout: float = 15.0, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(config, connection)
        if connection is None or not connection.login or not connection.password:
            raise ConfigError("twilio_sms: the connection needs login (account SID) and password (auth token)")
        extra = connection.extra
        sender = {"messaging_service_sid": extra.get("messaging_service_sid"), "from_": extra.get("from_number")}
        self.sender = {name: value for name, value in sender.items() if value}
        if not self.sender:
            raise ConfigError(f"twilio_sms: connection {connection.conn_id!r} needs extra 'messaging_service_sid' "
                              "or 'from_number'")
        self.fields = template_fields(config.template)
        self.sleep = sleep
        http_client = TwilioHttpClient(timeout=timeout, logger=SDK_LOG)
        self.client = Client(connection.login, connection.password, http_client=http_client)
        if connection.host:
            self.client.api.base_url = connection.base_url("api.twilio.com")

    def validate_fields(self, available_fields: Iterable[str]) -> None:
        """ConfigError naming the template fields (and identifier) the audience does not provide."""
        missing = sorted((self.fields | {self.identifier}) - set(available_fields))
        if missing:
            raise ConfigError(f"twilio_sms: the audience lacks field(s) {missing} used by the template or "
                              "as the phone number")

    def upsert(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for done, member in enumerate(members):
            try:
                outcomes.append(self._send(member))
            except _AccountError as error:  # no further request can succeed with this account
                outcomes += [Outcome(m.customer_key, FAILED, str(error)) for m in members[done:]]
                break
        log.info("twilio_sms %s: %s", audience, dict(Counter(o.status for o in outcomes)))
        return outcomes

    def reconcile(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        """What Twilio holds for each member whose send had no clear answer (see the module docstring)."""
        outcomes = [self._reconcile(member) for member in members]
        log.info("twilio_sms %s reconciled: %s", audience, dict(Counter(o.status for o in outcomes)))
        return outcomes

    def _reconcile(self, member: Member) -> Outcome:
        key = member.customer_key
        try:
            to, body = self._render(member)
        except _Unsendable as reason:  # its fields changed since: nothing to compare with
            return Outcome(key, UNKNOWN, f"cannot be reconciled: {reason}")
        sender = {"from_": self.sender["from_"]} if "from_" in self.sender else {}
        try:
            held = self.client.messages.list(to=to, **sender, limit=RECONCILE_LOOKBACK, page_size=50)
        except (TwilioRestException, TwilioServiceException, RequestException, ValueError) as error:
            return Outcome(key, UNKNOWN, f"could not list the number's messages ({type(error).__name__})")
        if "messaging_service_sid" in self.sender:
            held = [m for m in held if m.messaging_service_sid == self.sender["messaging_service_sid"]]
        same = [m for m in held if m.body == body]
        if same:
            return Outcome(key, DELIVERED, remote_id=same[-1].sid)  # the oldest: the one first sent
        if not held:  # the earlier request never reached Twilio
            return self._send(member)
        return Outcome(key, UNKNOWN, "Twilio holds other messages to the number, not this body")

    def _render(self, member: Member) -> tuple[str, str]:
        """The member's number and message body; _Unsendable says why there is none."""
        to = member.fields.get(self.identifier)
        if not isinstance(to, str) or not E164.fullmatch(to):
            raise _Unsendable("not E.164")
        empty = [name for name in sorted(self.fields) if member.fields.get(name) in (None, "")]
        if empty:
            raise _Unsendable(f"template field {empty[0]} is empty")
        body = self.config.template.format_map({name: str(member.fields[name]) for name in self.fields})
        if len(body) > MAX_BODY_CHARS:
            raise _Unsendable(f"body of {len(body)} characters exceeds {MAX_BODY_CHARS}")
        return to, body

    def _send(self, member: Member) -> Outcome:
        key = member.customer_key
        try:
            to, body = self._render(member)
        except _Unsendable as reason:
            return Outcome(key, REJECTED, str(reason))
        retry = ""
        optional = {"status_callback": self.config.status_callback} if self.config.status_callback else {}
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.sleep(min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** (attempt - 1)))
            try:
                message = self.client.messages.create(to=to, body=body, **self.sender, **optional)
            except (TwilioRestException, TwilioServiceException) as error:
                if error.status == 429 or error.code == 20429:
                    retry = f"rate limited (HTTP {error.status}, {error.code})"
                    continue  # documented as never processed
                return _refused(key, error)
            except RequestException as error:
                if _never_sent(error):
                    retry = f"could not connect ({type(error).__name__})"
                    continue
                return Outcome(key, UNKNOWN, f"{type(error).__name__} after sending: the SMS may have gone out")
            except ValueError:  # a 2xx whose body is not JSON
                return Outcome(key, UNKNOWN, "unreadable answer: the SMS may have gone out")
            return Outcome(key, DELIVERED, remote_id=message.sid)
        return Outcome(key, FAILED, f"{retry} after {MAX_ATTEMPTS} attempts")


class _Unsendable(Exception):
    """The member's fields make no valid message (the reason is the text)."""


class _AccountError(Exception):
    """The account's credentials or SID were refused: a problem of the connection, not of a member."""


def _refused(key: str, error: TwilioRestException | TwilioServiceException) -> Outcome:
    """The outcome of an error answer (reasons carry codes, never the echoed number or a credential);
    _AccountError when the account itself was refused."""
    code = f"HTTP {error.status}, {error.code}"
    if error.code == 21610:
        return Outcome(key, SUPPRESSED, "opted out with STOP (21610)")
    if error.code in REJECT_CODES:
        return Outcome(key, REJECTED, f"{REJECT_CODES[error.code]} ({error.code})")
    if error.status in (401, 403, 404):
        raise _AccountError(f"Twilio account not found or not authorised ({code})")
    if error.status >= 500:
        return Outcome(key, UNKNOWN, f"Twilio error ({code}): the SMS may have gone out")
    return Outcome(key, REJECTED, f"Twilio error ({code})")


def _never_sent(error: RequestException) -> bool:
    """True when the request never left: the connection could not be opened."""
    cause = error.args[0] if error.args else None
    return isinstance(error, ConnectTimeout) or (
        isinstance(error, RequestsConnectionError) and isinstance(cause, MaxRetryError)
        and isinstance(cause.reason, NewConnectionError))

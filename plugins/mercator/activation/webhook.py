"""Signed webhook destination: batches of members POSTed as JSON, signed after Standard Webhooks.

One connection per endpoint: host = the endpoint URL, password = the signing secret
(`whsec_<base64>`, 24 to 64 bytes). Each batch is one POST of
`{"type": "audience.members", "audience", "run_id", "members": [{"customer_key", **fields}]}` with
the headers `webhook-id` (a hash of the body: a retry of the same batch carries the same id, the
receiver's dedupe key), `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`). Only 2xx is success; 410 disables the endpoint for the rest of the run;
429, 502, 503 and 504 are retried honouring `Retry-After`. An answer lost after sending is retried
(same id) only when the endpoint does not trigger a message (`triggers_message: false`); otherwise
the batch is `unknown`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

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
)

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
MAX_BODY_BYTES = 64_000  # a batch is split further to stay under this
MAX_ATTEMPTS = 5
BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 1.0, 30.0
MAX_RETRY_AFTER_SECONDS = 60.0  # a longer Retry-After fails the batch for the next run
SLOW_DOWN = (429, 502, 503, 504)
GONE = "endpoint disabled (410)"


@dataclass(frozen=True)
class WebhookOptions:
    """`triggers_message`: the receiver sends each member a message (caps apply, no blind resend);
    `batch_size`: members per POST (1 to 1,000)."""

    triggers_message: bool = True
    batch_size: int = 100

    def __post_init__(self) -> None:
        if not isinstance(self.triggers_message, bool):
            raise ConfigError("webhook: option 'triggers_message' must be true or false")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) \
                or not 1 <= self.batch_size <= 1_000:
            raise ConfigError("webhook: option 'batch_size' must be an integer from 1 to 1000")


class WebhookDestination(Destination):
    """Members go out in signed batches. `identifier` is `customer_key`: a member needs nothing beyond
    its key; its fields are whatever the audience maps. The instance's `delivers_messages` is the
    option `triggers_message` and its `max_batch` the option `batch_size`."""

    kind = "webhook"
    config_class = WebhookOptions
    channels = ("webhook",)
    identifier = "customer_key"
    delivers_messages = True

    def __init__(self, config: WebhookOptions, connection: Connection | None = None, *, timeout: float = 15.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> None:
        super().__init__(config, connection)
        if connection is None or not connection.host or not connection.password:
            raise ConfigError("webhook: the connection needs host (the endpoint URL) and password (the signing secret)")
        url = urlsplit(connection.host)
        if url.query or url.username or url.password:
            raise ConfigError(f"webhook: connection {connection.conn_id!r}: the endpoint URL may carry no query or "
                              "credentials (the signing secret is the password)")
        self.url = connection.base_url(connection.host)
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ConfigError(f"webhook: connection {connection.conn_id!r}: the endpoint URL must be http(s)")
        self.signer = Signer(_secret_key(connection))
        self.delivers_messages = config.triggers_message
        self.max_batch = self.members_per_request = config.batch_size
        self.timeout, self.sleep, self.clock = timeout, sleep, clock
        self.gone_in_runs: set[str] = set()  # runs in which the endpoint answered 410

    def upsert(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        outcomes: list[Outcome] = []
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as http:
            for batch, body in self._batches(audience, members, run_id):
                if not body:
                    outcomes += [Outcome(m.customer_key, REJECTED, f"payload over {MAX_BODY_BYTES} bytes")
                                 for m in batch]
                    continue
                status, reason = self._post(http, body, run_id)
                outcomes += [Outcome(m.customer_key, status, reason) for m in batch]
        log.info("webhook %s: %s", audience, dict(Counter(o.status for o in outcomes)))
        return outcomes

    def _batches(self, audience: str, members: list[Member], run_id: str) -> Iterator[tuple[list[Member], bytes]]:
        """Batches of at most `batch_size` members and MAX_BODY_BYTES, each with its body (b"" for a
        member too large on its own)."""
        head = _json({"type": "audience.members", "audience": audience, "run_id": run_id})[:-1] + b',"members":['
        batch: list[Member] = []
        parts: list[bytes] = []
        size = len(head) + 2  # the head and the closing "]}"
        for member in members:
            part = _json({"customer_key": member.customer_key, **member.fields})
            if len(head) + 2 + len(part) > MAX_BODY_BYTES:
                yield [member], b""
                continue
            if len(parts) == self.config.batch_size or size + len(parts) + len(part) > MAX_BODY_BYTES:
                yield batch, head + b",".join(parts) + b"]}"
                batch, parts, size = [], [], len(head) + 2
            batch.append(member)
            parts.append(part)
            size += len(part)
        if batch:
            yield batch, head + b",".join(parts) + b"]}"

    def _post(self, http: httpx.Client, body: bytes, run_id: str) -> tuple[str, str]:
        """POST one batch: its outcome status and reason."""
        if run_id in self.gone_in_runs:
            return REJECTED, GONE
        webhook_id = "msg_" + hashlib.sha256(body).hexdigest()[:32]
        wait, retry = 0.0, ""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.sleep(wait)
            backoff = min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2 ** attempt)
            try:
                response = http.post(self.url, content=body, headers=self._headers(webhook_id, body))
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
                wait, retry = backoff, f"could not connect ({type(error).__name__})"
                continue
            except httpx.TransportError as error:
                if self.config.triggers_message:
                    return UNKNOWN, f"{type(error).__name__} after sending: the receiver may have acted on it"
                wait, retry = backoff, f"{type(error).__name__} after sending"
                continue
            status = response.status_code
            if 200 <= status < 300:
                return DELIVERED, ""
            if status == 410:
                self.gone_in_runs.add(run_id)
                return REJECTED, GONE
            if status in SLOW_DOWN:
                after = _retry_after(response.headers.get("Retry-After"), self.clock())
                if after is not None and after > MAX_RETRY_AFTER_SECONDS:
                    return FAILED, f"HTTP {status} with Retry-After {after:.0f} s (over {MAX_RETRY_AFTER_SECONDS:.0f})"
                wait, retry = (backoff if after is None else after), f"HTTP {status}"
                continue
            if status >= 500:
                if self.config.triggers_message:
                    return UNKNOWN, f"HTTP {status}: the receiver may have acted on it"
                wait, retry = backoff, f"HTTP {status}"
                continue
            return REJECTED, f"HTTP {status}"
        return FAILED, f"{retry} after {MAX_ATTEMPTS} attempts"

    def _headers(self, webhook_id: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(self.clock()))
        return {"Content-Type": "application/json", "User-Agent": "mercator-activation", "webhook-id": webhook_id,
                "webhook-timestamp": timestamp, "webhook-signature": self.signer.sign(webhook_id, timestamp, body)}


@dataclass(frozen=True)
class Signer:
    """Standard Webhooks v1 signatures with a key that no repr shows."""

    key: bytes = field(repr=False)

    def sign(self, webhook_id: str, timestamp: str, body: bytes) -> str:
        """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
        digest = hmac.new(self.key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode()


def _secret_key(connection: Connection) -> bytes:
    """The signing key: the base64 after `whsec_`, 24 to 64 bytes (the error never quotes the secret)."""
    secret = connection.password.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not 24 <= len(key) <= 64:
        raise ConfigError(f"webhook: connection {connection.conn_id!r}: the password must be a signing secret "
                          "'whsec_<base64 of 24 to 64 bytes>'")
    return key


def _json(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delay seconds or an HTTP date), None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.replace(tzinfo=when.tzinfo or UTC).timestamp() - now)  # HTTP dates are GMT

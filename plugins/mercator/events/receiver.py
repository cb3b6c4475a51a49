"""The HTTP receiver: SendGrid's Event Webhook and Twilio's callbacks, verified, then stored.

`POST /sendgrid/events`, `POST /twilio/status`, `POST /twilio/inbound`, `GET /healthz`. A request
is answered 2xx only once its events are in a landing file (writer.py, store.py); 401 without a
signature, 403 for a wrong one or a timestamp more than 5 minutes off, 400 for a body that is not
the provider's format, 404/405 for other paths and methods, 411/413 without a length or
over `max_body_bytes`, 503 when an endpoint is not configured or storing failed (the provider
retries). Logs carry counts and reasons, never addresses, phone numbers, bodies or secrets.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from mercator.events.rows import Malformed, sendgrid_events, sms_row
from mercator.events.store import LandingStore
from mercator.events.verify import (
    SENDGRID_SIGNATURE,
    SENDGRID_TIMESTAMP,
    Rejected,
    SendGridVerifier,
    TwilioVerifier,
)
from mercator.events.writer import Writer, WriterClosed

log = logging.getLogger(__name__)

ENV_SENDGRID_PUBLIC_KEY = "MERCATOR_SENDGRID_WEBHOOK_PUBLIC_KEY"
ENV_TWILIO_AUTH_TOKEN = "MERCATOR_TWILIO_AUTH_TOKEN"
POST_PATHS = ("/sendgrid/events", "/twilio/status", "/twilio/inbound")
HEALTH_PATH = "/healthz"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'  # inbound: no reply SMS


@dataclass(frozen=True)
class Config:
    landing: Path
    sendgrid_public_key: str | None = field(default=None, repr=False)
    """The Event Webhook's verification key as SendGrid shows it (base64 DER); None: endpoint off."""
    twilio_auth_token: str | None = field(default=None, repr=False)
    """The secret Twilio signs with (the account's auth token); None: endpoints off."""
    public_url: str | None = None
    """The base URL Twilio was given (`https://hooks.example.com/mercator`), which its signature
    covers; default `http://<Host header>`, wrong behind a proxy."""
    max_body_bytes: int = 8 * 1024 * 1024
    flush_interval: float = 0.5
    flush_rows: int = 5_000
    store_timeout: float = 30.0

    @classmethod
    def from_env(cls, landing: Path, **settings: object) -> Config:
        """Secrets from MERCATOR_SENDGRID_WEBHOOK_PUBLIC_KEY and MERCATOR_TWILIO_AUTH_TOKEN."""
        return cls(
            Path(landing),
            sendgrid_public_key=os.environ.get(ENV_SENDGRID_PUBLIC_KEY) or None,
            twilio_auth_token=os.environ.get(ENV_TWILIO_AUTH_TOKEN) or None,
            **settings,
        )


class Receiver:
    """Binds `host:port` (0: a free port); serves in a background thread between `start` and `close`
    (or as a context manager)."""

    def __init__(self, config: Config, host: str = "127.0.0.1", port: int = 0) -> None:
        if not (config.sendgrid_public_key or config.twilio_auth_token):
            raise ValueError(f"set {ENV_SENDGRID_PUBLIC_KEY} or {ENV_TWILIO_AUTH_TOKEN} (or both)")
        self.config = config
        self._sendgrid = SendGridVerifier(config.sendgrid_public_key) if config.sendgrid_public_key else None
        self._twilio = TwilioVerifier(config.twilio_auth_token) if config.twilio_auth_token else None
        self.store = LandingStore(config.landing)
        try:
            self._httpd = _Server((host, port), self)
        except BaseException:
            self.store.close()
            raise
        self.writer = Writer(self.store, config.flush_interval, config.flush_rows)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Receiver:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="mercator-events-http")
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting, store what is queued (its requests are answered), end every connection."""
        if self._thread:
            self._httpd.shutdown()
        self.writer.close()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread:
            self._thread.join()
        self.store.close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def healthy(self) -> bool:
        return self.writer.alive

    def sendgrid(self, headers: Message, body: bytes) -> None:
        if self._sendgrid is None:
            raise Rejected(503, "SendGrid endpoint not configured")
        self._sendgrid.verify(body, headers.get(SENDGRID_SIGNATURE), headers.get(SENDGRID_TIMESTAMP), time.time())
        self._store("email/events", sendgrid_events(body))

    def twilio(self, target: str, headers: Message, body: bytes) -> None:
        """`target` is the request's path and query, which the signed URL ends with."""
        if self._twilio is None:
            raise Rejected(503, "Twilio endpoints not configured")
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise Malformed("body is not UTF-8") from None
        base = (self.config.public_url or f"http://{headers.get('Host', '')}").rstrip("/")
        self._twilio.verify(base + target, form, headers)
        inbound = urlsplit(target).path == "/twilio/inbound"
        self._store("sms/events", [sms_row(form, inbound, datetime.now(UTC))])

    def _store(self, entity: str, rows: list[dict]) -> None:
        if not rows:
            return
        try:
            stored = self.writer.submit(entity, rows, self.config.store_timeout)
        except WriterClosed:
            raise Rejected(503, "the receiver is stopping") from None
        except Exception:
            raise Rejected(503, "storing the events failed") from None
        if not stored:
            raise Rejected(503, "storing the events took too long")


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every request thread
    block_on_close = True

    def __init__(self, address: tuple[str, int], receiver: Receiver) -> None:
        self.receiver = receiver
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        """A request thread's error (mostly a client gone mid-answer), logged without a traceback."""
        log.warning("connection ended by an error: %s", sys.exception().__class__.__name__)

    def close_connections(self) -> None:
        """End the reads of kept-alive connections, so that their threads finish now."""
        with self._connections_lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RD)
                except OSError:
                    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for providers that post batch after batch
    timeout = 60  # seconds a connection may idle
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Silent: request lines may carry data; the receiver logs counts and reasons itself."""

    def do_GET(self) -> None:
        if self._path() == HEALTH_PATH:
            healthy = self.server.receiver.healthy
            self._reply(200 if healthy else 503, {"status": "ok" if healthy else "writer stopped"})
        else:
            self._refuse()

    def do_POST(self) -> None:
        path = self._path()
        if path not in POST_PATHS:
            return self._refuse()
        receiver = self.server.receiver
        try:
            body = self._body()
            if path == "/sendgrid/events":
                receiver.sendgrid(self.headers, body)
            else:
                receiver.twilio(self.path, self.headers, body)
        except Malformed as error:
            log.warning("POST %s: 400 %s", path, error)
            return self._reply(400, {"error": str(error)})
        except Rejected as error:
            log.warning("POST %s: %d %s", path, error.status, error)
            return self._reply(error.status, {"error": str(error)})
        if path == "/twilio/inbound":
            self._reply(200, EMPTY_TWIML, "text/xml")
        else:
            self._reply(200, {"status": "ok"})

    do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = lambda self: self._refuse()  # noqa: E731

    def _path(self) -> str:
        return urlsplit(self.path).path

    def _refuse(self) -> None:
        path = self._path()
        allowed = "GET" if path == HEALTH_PATH else "POST" if path in POST_PATHS else None
        if allowed:
            self._reply(405, {"error": "method not allowed"}, headers={"Allow": allowed})
        else:
            self._reply(404, {"error": "not found"})

    def _body(self) -> bytes:
        """The body by Content-Length; a request refused before its body was read closes the connection."""
        length = self.headers.get("Content-Length")
        limit = self.server.receiver.config.max_body_bytes
        if length is None or "Transfer-Encoding" in self.headers:
            self.close_connection = True
            raise Rejected(411, "Content-Length required")
        if not length.isdigit():
            self.close_connection = True
            raise Rejected(400, "invalid Content-Length")
        if int(length) > limit:
            self.close_connection = True
            raise Rejected(413, f"body over {limit} bytes")
        body = self.rfile.read(int(length))
        if len(body) < int(length):
            self.close_connection = True
            raise Rejected(400, "body shorter than Content-Length")
        return body

    def _reply(
        self,
        status: int,
        payload: object,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

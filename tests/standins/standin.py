"""Shared machinery of the HTTP stand-ins: a threaded server on 127.0.0.1 with seeded faults.

A stand-in subclasses `StandinServer`, lists its `ROUTES` and implements `handle` and
`fault_reply`. It runs as a context manager (`with SendGridStandin() as sg:`) that binds a free
port, serves in background threads and on exit stops them all (sleeping faults wake up early).
"""

from __future__ import annotations

import json
import random
import re
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

FAULT_KINDS = ("rate_limited", "server_error", "timeout", "reset_after_write")


@dataclass(frozen=True)
class Faults:
    """Shares of requests answered with a fault (at most 1 in all), drawn from an RNG seeded by `seed`.

    `rate_limited` answers 429 and `server_error` 500 or 503, both without touching state.
    `timeout` holds the request `timeout_seconds` (set it beyond the client's timeout), then applies
    it and answers a client that has given up. `reset_after_write` applies the request, then resets
    the connection instead of answering: a client that retries must be idempotent.
    """

    rate_limited: float = 0.0
    server_error: float = 0.0
    timeout: float = 0.0
    reset_after_write: float = 0.0
    timeout_seconds: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        shares = [getattr(self, kind) for kind in FAULT_KINDS]
        if min(shares) < 0 or sum(shares) > 1:
            raise ValueError(f"fault shares must be >= 0 and sum to at most 1: {shares}")

    def draw(self, rng: random.Random) -> str | None:
        """The fault for one request, or None."""
        x = rng.random()
        for kind in FAULT_KINDS:
            share = getattr(self, kind)
            if x < share:
                return kind
            x -= share
        return None


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes

    def arg(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> object:
        """The body as JSON (ValueError when it is not)."""
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Reply:
    """One HTTP response."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: object, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


RESET = Reply(0)  # reset the connection instead of answering


@dataclass(frozen=True)
class Record:
    """One request as the stand-in saw it: `status` is None when the connection was reset or dropped."""

    endpoint: str
    method: str
    path: str
    status: int | None
    fault: str | None


class _Handler(BaseHTTPRequestHandler):
    timeout = 5  # seconds a connection may idle before its thread gives up

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the stand-in keeps its own log."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        request = Request(self.command, url.path, parse_qs(url.query, keep_blank_values=True), self.headers, body)
        reply = self.server.standin.respond(request)
        if reply is None:
            return
        if reply is RESET:
            self.connection.setsockopt(*_LINGER_ZERO)
            self.connection.close()
            return
        try:
            self.send_response(reply.status)
            for name, value in {"Content-Length": str(len(reply.body)), **reply.headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            pass  # the client gave up (a timeout fault)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


_LINGER_ZERO = (socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close() sends a reset


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every request thread
    block_on_close = True


class StandinServer:
    """Base of a stand-in: routing, fault draws, counters, request log and lifecycle."""

    ROUTES: tuple[tuple[str, str, str], ...] = ()  # (method, path regex, endpoint name)

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.lock = threading.RLock()
        self.requests: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()
        self.log: list[Record] = []
        self._routes = [(method, re.compile(pattern), name) for method, pattern, name in self.ROUTES]
        self._fault_rng = random.Random(self.faults.seed)
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._inflight = 0
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StandinServer:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.standin = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), name=type(self).__name__)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until no request is being served (a timeout fault still applying its write)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._inflight == 0, timeout):
                raise TimeoutError("stand-in still serving requests")

    def pause(self, seconds: float) -> bool:
        """Sleep, waking early when the stand-in stops; True when the full time passed."""
        return not self._stopping.wait(seconds)

    def handle(self, endpoint: str, request: Request, params: dict[str, str]) -> Reply:
        """Answer a routed request (`params` are the named groups of its path)."""
        raise NotImplementedError

    def fault_reply(self, endpoint: str, status: int) -> Reply:
        """The API's answer for an injected 429, 500 or 503."""
        raise NotImplementedError

    def not_found(self) -> Reply:
        return Reply.json(404, {"message": "no such endpoint in the stand-in"})

    def respond(self, request: Request) -> Reply | None:
        """Serve one request: draw a fault, apply it, log; None drops the connection unanswered."""
        endpoint, params = self._route(request)
        with self._idle:
            self._inflight += 1
        try:
            with self.lock:
                self.requests[endpoint] += 1
                fault = self.faults.draw(self._fault_rng) if params is not None else None
                status = self._fault_rng.choice((500, 503)) if fault == "server_error" else 429
                if fault:
                    self.faults_injected[fault] += 1
            reply = self._serve(endpoint, request, params, fault, status)
            with self.lock:
                answered = reply is not None and reply is not RESET
                self.log.append(Record(endpoint, request.method, request.path, reply.status if answered else None,
                                       fault))
            return reply
        finally:
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()

    def _route(self, request: Request) -> tuple[str, dict[str, str] | None]:
        for method, pattern, name in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return name, {k: unquote(v) for k, v in match.groupdict().items()}
        return "unknown", None

    def _serve(self, endpoint: str, request: Request, params: dict[str, str] | None, fault: str | None,
               status: int) -> Reply | None:
        if params is None:
            return self.not_found()
        if fault in ("rate_limited", "server_error"):
            return self.fault_reply(endpoint, status)
        if fault == "timeout" and not self.pause(self.faults.timeout_seconds):
            return None
        reply = self.handle(endpoint, request, params)
        return RESET if fault == "reset_after_write" else reply

"""A stand-in in a process of its own, as a real API is remote: its CPU, GIL and memory stay apart.

    with StandinProcess("sendgrid", rate_limits=...) as standin:
        standin.base_url          # http://127.0.0.1:PORT
        standin.stats()           # {"requests": {...}, "handling_seconds": {...}, "peak_mb": ...}

The child is spawned (not forked), so its peak RSS is its own. Keyword arguments go to the
stand-in's constructor; `stats` counts requests per endpoint and seconds spent answering them.
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
import time
from collections import Counter


def _standin_class(kind: str):
    if kind == "sendgrid":
        from tests.standins.sendgrid_server import SendGridStandin

        return SendGridStandin
    from tests.standins.twilio_server import TwilioStandin

    return TwilioStandin


def _serve(kind: str, kwargs: dict, conn) -> None:
    """Child: run the stand-in, answer "stats" and "stop" over the pipe."""
    with _standin_class(kind)(**kwargs) as server:
        seconds: Counter[str] = Counter()
        lock = threading.Lock()
        handle = server.handle

        def timed(endpoint, request, params):
            start = time.perf_counter()
            try:
                return handle(endpoint, request, params)
            finally:
                with lock:
                    seconds[endpoint] += time.perf_counter() - start

        server.handle = timed
        conn.send(server.base_url)
        while (command := conn.recv()) != "stop":
            with lock:
                handling = dict(seconds)
            conn.send({"requests": dict(server.requests), "handling_seconds": handling,
                       "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "command": command})
    conn.send("stopped")


class StandinProcess:
    """`kind` "sendgrid" or "twilio", served by a spawned child process until the block ends."""

    def __init__(self, kind: str, **kwargs) -> None:
        self.kind, self.kwargs = kind, kwargs
        self.base_url = ""

    def __enter__(self) -> StandinProcess:
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(self.kind, self.kwargs, child_end), daemon=True)
        self._process.start()
        self.base_url = self._conn.recv()
        return self

    def stats(self) -> dict:
        self._conn.send("stats")
        return self._conn.recv()

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._conn.recv()
        self._process.join(timeout=30)

"""Group commit: requests arriving close together are stored in one landing file per entity.

The writer thread waits for a first request, gathers more for up to `interval` seconds (or until
`max_rows` rows wait), appends them all, then wakes their request threads, which answer 2xx only
if the append succeeded. One file per flush keeps the file count low under one-event-per-request
callbacks (Twilio) while a burst of SendGrid batches shares one fsync.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from mercator.events.store import LandingStore

log = logging.getLogger(__name__)


class WriterClosed(RuntimeError):
    """The receiver is stopping: nothing more is accepted."""


@dataclass
class _Pending:
    entity: str
    rows: list[Mapping]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class Writer:
    def __init__(self, store: LandingStore, interval: float = 0.5, max_rows: int = 5_000) -> None:
        self.store, self.interval, self.max_rows = store, interval, max_rows
        self._queue: list[_Pending] = []
        self._rows = 0
        self._closed = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="mercator-events-writer")
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, entity: str, rows: list[Mapping], timeout: float) -> bool:
        """Store `rows` durably (duplicates dropped); False if that took over `timeout` seconds (the
        rows may still be stored: the provider's redelivery is then a duplicate). Raises what the
        append raised, or WriterClosed."""
        pending = _Pending(entity, rows)
        with self._wake:
            if self._closed:
                raise WriterClosed("the receiver is stopping")
            self._queue.append(pending)
            self._rows += len(rows)
            self._wake.notify_all()
        if not pending.done.wait(timeout):
            return False
        if pending.error is not None:
            raise pending.error
        return True

    def close(self) -> None:
        """Store what is queued, then stop the thread."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return
                self._wake.wait_for(lambda: self._closed or self._rows >= self.max_rows, timeout=self.interval)
                batch, self._queue, self._rows = self._queue, [], 0
            self._flush(batch)

    def _flush(self, batch: list[_Pending]) -> None:
        by_entity: dict[str, list[_Pending]] = defaultdict(list)
        for pending in batch:
            by_entity[pending.entity].append(pending)
        for entity, items in by_entity.items():
            try:
                result = self.store.append(entity, [row for p in items for row in p.rows])
                log.info(
                    "%s: %d requests, %d events stored in %s, %d duplicates dropped",
                    entity,
                    len(items),
                    result.stored,
                    result.file.name if result.file else "no file",
                    result.duplicates,
                )
            except Exception as error:
                log.error("%s: storing %d requests failed, answered 503: %s", entity, len(items), error)
                for pending in items:
                    pending.error = error
            for pending in items:
                pending.done.set()

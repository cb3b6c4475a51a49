"""Accepted events as landing files, written atomically and deduplicated through a durable key index.

One `append` runs under SQLite's write lock (`BEGIN IMMEDIATE`, which also serialises other
processes on the same landing dir), in this order:

1. drop the rows whose key is in the index or earlier in the batch;
2. write the others to `<entity>/.intake-<name>.tmp` (hidden and without a contract suffix: the
   extractor never reads it), fsync, rename to `<entity>/intake-<UTC time>-<random>.jsonl`, fsync
   the folder;
3. insert their keys and the file's name into the index; commit.

Callers acknowledge only after step 3. Killed before the rename, a temp file is left, which the next
open removes. Killed between the rename and the commit, the file is whole but not indexed: the next
open indexes every `intake-*.jsonl` file that the index does not list. The index is thus a cache of
the files (delete it and it is rebuilt from them), never holds a key whose row is not in a file, and
a redelivery after a crash is not stored twice.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mercator.events.rows import email_key, sms_key

log = logging.getLogger(__name__)

KEYS: dict[str, Callable[[Mapping], str]] = {"email/events": email_key, "sms/events": sms_key}
STATE_DIR = ".mercator-events"  # hidden: the extractor skips it
FILE_PREFIX, TEMP_PREFIX, TEMP_SUFFIX = "intake-", ".intake-", ".tmp"
LOOKUP_CHUNK = 500  # keys per `in (...)` query, under SQLite's variable limit
SCHEMA = (
    "create table if not exists keys (entity text, key text, primary key (entity, key)) without rowid",
    "create table if not exists files (name text primary key) without rowid",
    "create table if not exists state (name text primary key, value text) without rowid",
)


@dataclass(frozen=True)
class Appended:
    file: Path | None
    """The new landing file, None when every row was a duplicate."""
    stored: int
    duplicates: int


class LandingStore:
    """Appends rows of `email/events` and `sms/events` under `landing`; index in `landing/.mercator-events/`."""

    def __init__(self, landing: Path) -> None:
        self.landing = Path(landing)
        state_dir = self.landing / STATE_DIR
        state_dir.mkdir(parents=True, exist_ok=True)
        for entity in KEYS:
            (self.landing / entity).mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            state_dir / "index.sqlite", timeout=60, isolation_level=None, check_same_thread=False
        )
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=normal")  # a commit lost to a power cut is redone from the files
        for statement in SCHEMA:
            self._db.execute(statement)
        with self._lock:
            self._db.execute("begin immediate")
            try:
                self._recover()
                self._db.execute("commit")
            except BaseException:
                self._db.execute("rollback")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def state(self, name: str) -> str | None:
        """A value kept with `append(..., state=...)`."""
        with self._lock:
            row = self._db.execute("select value from state where name = ?", [name]).fetchone()
        return row[0] if row else None

    def append(self, entity: str, rows: list[Mapping], state: Mapping[str, str] | None = None) -> Appended:
        """Store the rows not stored before in one new file of `entity`; `state` commits with them."""
        key = KEYS[entity]
        with self._lock:
            self._db.execute("begin immediate")
            path = None
            try:
                fresh = self._fresh(entity, [(key(row), row) for row in rows])
                if fresh:
                    path = self._write_file(self.landing / entity, [row for _, row in fresh])
                    self._db.executemany("insert into keys values (?, ?)", [(entity, k) for k, _ in fresh])
                    self._db.execute("insert into files values (?)", [self._name(path)])
                if state:
                    self._db.executemany("insert or replace into state values (?, ?)", state.items())
                self._db.execute("commit")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("rollback")
                if path:
                    path.unlink(missing_ok=True)  # not acknowledged: its redelivery writes it again
                raise
        return Appended(path, len(fresh), len(rows) - len(fresh))

    def _fresh(self, entity: str, keyed: list[tuple[str, Mapping]]) -> list[tuple[str, Mapping]]:
        """The (key, row) pairs whose key is neither indexed nor earlier in `keyed`."""
        distinct = list({k for k, _ in keyed})
        seen: set[str] = set()
        for i in range(0, len(distinct), LOOKUP_CHUNK):
            chunk = distinct[i : i + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"select key from keys where entity = ? and key in ({marks})"
            seen.update(k for (k,) in self._db.execute(query, [entity, *chunk]))
        fresh = []
        for k, row in keyed:
            if k not in seen:
                seen.add(k)
                fresh.append((k, row))
        return fresh

    @staticmethod
    def _write_file(folder: Path, rows: list[Mapping]) -> Path:
        """Write JSON Lines to a temp name, fsync, rename into place, fsync the folder."""
        name = f"{FILE_PREFIX}{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.jsonl"
        temp, path = folder / f".{name}{TEMP_SUFFIX}", folder / name
        data = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows).encode()
        try:
            with open(temp, "xb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.rename(temp, path)
            descriptor = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except BaseException:
            temp.unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            raise
        return path

    def _name(self, path: Path) -> str:
        return path.relative_to(self.landing).as_posix()

    def _recover(self) -> None:
        """Remove temp files of interrupted writes; index the files renamed but never committed."""
        indexed = {name for (name,) in self._db.execute("select name from files")}
        for entity, key in KEYS.items():
            for path in sorted((self.landing / entity).iterdir()):
                if path.name.startswith(TEMP_PREFIX) and path.name.endswith(TEMP_SUFFIX):
                    path.unlink()
                    log.info("removed %s, an interrupted write (never acknowledged)", self._name(path))
                elif path.name.startswith(FILE_PREFIX) and path.suffix == ".jsonl" and self._name(path) not in indexed:
                    keys = [(entity, key(json.loads(line))) for line in path.read_text().splitlines() if line]
                    self._db.executemany("insert or ignore into keys values (?, ?)", keys)
                    self._db.execute("insert into files values (?)", [self._name(path)])
                    log.info(
                        "indexed %s (%d events), written before the index was updated", self._name(path), len(keys)
                    )

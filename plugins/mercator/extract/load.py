"""Load an entity's delivery files into its raw table, one transaction per file."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, Literal

import duckdb

from mercator import contract
from mercator.extract.chunks import file_head
from mercator.extract.discover import delivery_files
from mercator.extract.encoding import UnreadableFile
from mercator.extract.readers import Staged, drop_stage, stage_file
from mercator.extract.schema import ensure_raw_schema, raw_columns
from mercator.extract.sql import ident
from mercator.extract.validate import CHECKED, check_staged

log = logging.getLogger(__name__)

UNREADABLE_PREVIEW_BYTES = 200
STAT_TRUSTED_AFTER_NS = 2_000_000_000


@dataclass(frozen=True)
class FileLoadResult:
    file: str
    delivery_hash: str
    status: Literal["loaded", "skipped"]
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    encoding: str | None = None
    extra_columns: tuple[str, ...] = ()
    """Columns the contract does not know (a new or renamed column): kept in raw, unused downstream."""


@dataclass(frozen=True)
class EntityLoadResult:
    entity: str
    load_id: str
    files: tuple[FileLoadResult, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable totals and per-file results (fit for logs and XCom)."""
        loaded = [f for f in self.files if f.status == "loaded"]
        return {
            "entity": self.entity,
            "load_id": self.load_id,
            "files_loaded": len(loaded),
            "files_skipped": len(self.files) - len(loaded),
            "rows_in": sum(f.rows_in for f in loaded),
            "rows_loaded": sum(f.rows_loaded for f in loaded),
            "rows_quarantined": sum(f.rows_quarantined for f in loaded),
            "files": [asdict(f) for f in self.files],
        }


def summarize(results: Iterable[EntityLoadResult]) -> dict[str, Any]:
    """Totals over several entities' loads, with each entity's totals (without per-file detail)."""
    entities = [{k: v for k, v in r.as_dict().items() if k != "files"} for r in results]
    totals = ("files_loaded", "files_skipped", "rows_in", "rows_loaded", "rows_quarantined")
    return {**{key: sum(e[key] for e in entities) for key in totals}, "entities": entities}


def load_entity(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    entity_path: str,
    load_id: str,
    *,
    source_timezone: str = "UTC",
) -> EntityLoadResult:
    """Load every new or changed delivery of `entity_path` (`shop/orders`) found under `landing_dir`.

    `con` must not be inside a transaction: each file is loaded in its own transaction.
    """
    entity = contract.entity(entity_path)
    ensure_raw_schema(con)
    folder = landing_dir / entity_path
    files = delivery_files(folder) if folder.is_dir() else []
    results = tuple(load_file(con, entity, landing_dir, path, load_id, source_timezone) for path in files)
    result = EntityLoadResult(entity_path, load_id, results)
    log.info("extract %s: %s", entity_path, {k: v for k, v in result.as_dict().items() if k != "files"})
    return result


def load_file(
    con: duckdb.DuckDBPyConnection,
    entity: contract.Entity,
    landing_dir: Path,
    path: Path,
    load_id: str,
    source_timezone: str,
) -> FileLoadResult:
    """Load one delivery unless the same content was the file's latest delivery.

    A file whose size and modification time are those recorded with its latest delivery is not
    read again (a daily run at 1M customers would otherwise re-read gigabytes of history).

    A delivery replaces the rows of the file's previous one, unless it has no usable row (empty,
    header-only, unreadable, missing a required column): a failed or truncated upload then keeps
    the previous rows, as a file removed from the landing folder does.
    """
    relative = path.relative_to(landing_dir).as_posix()
    stat = FileStat.of(path)
    latest = con.execute(
        "select delivery_hash, file_size, file_mtime_ns, loaded_at from raw._deliveries where file = ? "
        "order by loaded_at desc limit 1", [relative]
    ).fetchall()
    if latest and stat.trusted and latest[0][1:3] == (stat.size, stat.mtime_ns):
        return FileLoadResult(relative, latest[0][0], "skipped")
    with path.open("rb") as file:
        delivery_hash = hashlib.file_digest(file, "sha256").hexdigest()
    if latest and latest[0][0] == delivery_hash:
        con.execute(
            "update raw._deliveries set file_size = ?, file_mtime_ns = ? where file = ? and loaded_at = ?",
            [stat.size, stat.recorded_mtime_ns, relative, latest[0][3]],
        )
        return FileLoadResult(relative, delivery_hash, "skipped")

    staged: Staged | None = None
    with TemporaryDirectory(prefix="mercator-extract-") as workdir:
        try:
            staged = stage_file(con, path, Path(workdir))
        except UnreadableFile as exc:
            unreadable = str(exc)
        except duckdb.Error as exc:
            unreadable = f"unreadable {path.suffix.lstrip('.')} file: {str(exc).splitlines()[0]}"

    meta = _Delivery(entity, relative, delivery_hash, load_id, datetime.now(UTC))
    con.begin()
    try:
        if staged is None:
            _replace_previous_unless_kept(con, meta, new_rows=0)
            counts = _quarantine_whole_file(con, meta, unreadable, path)
        else:
            counts = _insert_checked(con, meta, staged, source_timezone, path)
        encoding = staged.encoding if staged else None
        con.execute(
            "insert into raw._deliveries (source, entity, file, delivery_hash, load_id, loaded_at, rows_in, "
            "rows_loaded, rows_quarantined, encoding, file_size, file_mtime_ns) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*meta.source_row(), meta.loaded_at, *counts, encoding, stat.size, stat.recorded_mtime_ns],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.execute(f"drop table if exists {CHECKED}")
        drop_stage(con)
    rows_in, rows_loaded, rows_quarantined = counts
    extras = _extra_columns(entity, staged.columns) if staged else ()
    if extras:
        log.warning("%s: column(s) not in the contract, kept in raw but unused downstream: %s",
                    relative, ", ".join(extras))
    return FileLoadResult(
        relative, delivery_hash, "loaded", rows_in, rows_loaded, rows_quarantined, encoding, extras
    )


def _extra_columns(entity: contract.Entity, columns: list[str]) -> tuple[str, ...]:
    known = {c.name.lower() for c in entity.columns}
    return tuple(c for c in columns if c.lower() not in known)


@dataclass(frozen=True)
class FileStat:
    """A file's size and modification time, to skip re-reading a file that has not changed.

    Like git's index, a modification time is trusted only once it is older than the clock's
    granularity: a file written again within the same tick would keep its time.
    """

    size: int
    mtime_ns: int
    trusted: bool

    @classmethod
    def of(cls, path: Path) -> FileStat:
        stat = path.stat()
        return cls(stat.st_size, stat.st_mtime_ns, stat.st_mtime_ns < time.time_ns() - STAT_TRUSTED_AFTER_NS)

    @property
    def recorded_mtime_ns(self) -> int | None:
        """The time to record: none while it is too recent to trust."""
        return self.mtime_ns if self.trusted else None


@dataclass(frozen=True)
class _Delivery:
    entity: contract.Entity
    file: str
    delivery_hash: str
    load_id: str
    loaded_at: datetime

    def source_row(self) -> list[str]:
        return [self.entity.source, self.entity.name, self.file, self.delivery_hash, self.load_id]


def _replace_previous_unless_kept(con: duckdb.DuckDBPyConnection, meta: _Delivery, new_rows: int) -> None:
    """Delete the file's previous rows and quarantine, unless the new delivery loads no row."""
    [(previous,)] = con.execute(
        f"select count(*) from raw.{meta.entity.raw_table} where _file = ?", [meta.file]
    ).fetchall()
    if new_rows == 0 and previous:
        log.warning("%s: the new delivery has no usable row; keeping the %d rows of the previous one",
                    meta.file, previous)
        return
    con.execute(f"delete from raw.{meta.entity.raw_table} where _file = ?", [meta.file])
    con.execute("delete from raw.quarantine where file = ?", [meta.file])


def _insert_checked(
    con: duckdb.DuckDBPyConnection, meta: _Delivery, staged: Staged, source_timezone: str, path: Path
) -> tuple[int, int, int]:
    """Insert good rows into raw and bad ones into quarantine; a file whose header lacks required
    columns and that has no data row (a one-line JSON document, a wrong export) is quarantined whole."""
    checked = check_staged(con, meta.entity, staged.columns, source_timezone)
    [(staged_rows, good_rows)] = con.execute(
        f"select count(*), count(*) filter (where _reason is null) from {CHECKED}"
    ).fetchall()
    _replace_previous_unless_kept(con, meta, good_rows)
    if staged_rows == 0 and staged.columns and checked.file_reason:
        return _quarantine_whole_file(con, meta, checked.file_reason, path)
    existing = {name.lower() for name in raw_columns(con, meta.entity)}
    for extra in checked.extra_columns:
        if extra.lower() not in existing:
            con.execute(f"alter table raw.{meta.entity.raw_table} add column {ident(extra)} varchar")
    columns = ", ".join(ident(c) for c in [*(c.name for c in meta.entity.columns), *checked.extra_columns])
    [(rows_loaded,)] = con.execute(
        f"insert into raw.{meta.entity.raw_table} "
        f"({columns}, _file, _line, _delivery_hash, _load_id, _loaded_at) "
        f"select {columns}, ?, _line, ?, ?, ? from {CHECKED} where _reason is null",
        [meta.file, meta.delivery_hash, meta.load_id, meta.loaded_at],
    ).fetchall()
    [(rows_quarantined,)] = con.execute(
        "insert into raw.quarantine select ?, ?, ?, _line, _reason, _bad_record, ?, ?, ? "
        f"from {CHECKED} where _reason is not null",
        [*meta.source_row(), meta.loaded_at],
    ).fetchall()
    return rows_loaded + rows_quarantined, rows_loaded, rows_quarantined


def _quarantine_whole_file(
    con: duckdb.DuckDBPyConnection, meta: _Delivery, reason: str, path: Path
) -> tuple[int, int, int]:
    """A file that is not a table counts as one input record, quarantined with line NULL."""
    preview = file_head(path, UNREADABLE_PREVIEW_BYTES).decode("utf-8", errors="backslashreplace")
    con.execute(
        "insert into raw.quarantine values (?, ?, ?, null, ?, ?, ?, ?, ?)",
        [meta.entity.source, meta.entity.name, meta.file, reason, preview, meta.delivery_hash, meta.load_id,
         meta.loaded_at],
    )
    log.warning("quarantined whole file %s: %s", meta.file, reason)
    return 1, 0, 1

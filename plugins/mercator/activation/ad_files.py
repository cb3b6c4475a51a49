"""Google Customer Match and Meta Custom Audiences files: hashed identifiers only, for upload.

`<directory>/<audience>/<kind>/<run_date>_add_<n>.csv` and `<run_date>_remove_<n>.csv` (n from 1):
the platform's header (Google `Email,Phone`, Meta `EMAIL,PHONE`), then one row per member with the
SHA-256 hex of its normalised email and phone (see mercator.activation.hashing), either empty when
missing. Google gets one file per set; Meta files hold at most `chunk_size` rows (its per-request
limit, 10,000), so each is one upload.

A member needs an email or a phone: either alone is enough (the class `identifier` says "email"
for want of a contract field meaning "any of"). The set of a run date accumulates across the
engine's batches and reruns: rows are kept in first-seen order and each row once, so a rerun
rewrites identical bytes; adding a row takes it out of that date's remove set and vice versa.
Each file is replaced atomically, in order, so a crash never leaves a partial file nor loses a
row written by an earlier call.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from mercator.activation.destination import (
    DELIVERED,
    REJECTED,
    ConfigError,
    Destination,
    Member,
    Outcome,
    run_date_of,
)
from mercator.activation.hashing import Row, google_phone, hashed_row, meta_phone
from mercator.config import Settings

META_MAX_ROWS = 10_000
AUDIENCE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class AdFilesConfig:
    """`directory`: absolute, or relative to the reports directory (MERCATOR_REPORTS)."""

    directory: Path = Path("ad_audiences")

    def __post_init__(self) -> None:
        # joining an absolute path keeps it as it is
        object.__setattr__(self, "directory", Settings.from_env().reports_dir / self.directory)


@dataclass(frozen=True)
class MetaFilesConfig(AdFilesConfig):
    chunk_size: int = META_MAX_ROWS

    def __post_init__(self) -> None:
        super().__post_init__()
        size = self.chunk_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= META_MAX_ROWS:
            raise ConfigError(f"meta_custom_audience: chunk_size must be 1 to {META_MAX_ROWS:,}, got {size!r}")


class AdAudienceFiles(Destination):
    """Writes the hashed rows of added and removed members to the run date's file sets."""

    channels = ("ads",)
    identifier = "email"  # or phone: either alone is enough
    delivers_messages = False
    needs_connection = False
    max_batch = 100_000  # files, not requests: few large calls keep rewriting a day's set cheap
    header: ClassVar[str]
    phone_form: ClassVar[Callable[[str], str]]

    def chunk_size(self) -> int | None:
        """Rows per file; None: one file."""
        return None

    def upsert(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        return self._write(audience, members, run_date_of(run_id), "add", "remove")

    def remove(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        return self._write(audience, members, run_date_of(run_id), "remove", "add")

    def erase(self, members: list[Member]) -> list[Outcome]:
        """Take these people out of every add file of every audience, and write today's removal
        (their rows, and the rows that matched them by email or phone) into each audience's set."""
        outcomes, rows = self._hash(members)
        if not rows:
            return outcomes
        emails, phones = {e for e, _ in rows if e}, {p for _, p in rows if p}

        def erased(row: Row) -> bool:
            return row[0] in emails or row[1] in phones

        today = datetime.now(UTC).date().isoformat()
        for folder in sorted(p for p in self.config.directory.glob(f"*/{self.kind}") if p.is_dir()):
            dropped = [row for stem in _stems(folder, "add") for row in self._revise(folder, stem, drop=erased)]
            self._revise(folder, f"{today}_remove", add=[*dropped, *rows])
        return outcomes

    def _write(self, audience: str, members: list[Member], run_date: str, into: str, out_of: str) -> list[Outcome]:
        if not AUDIENCE_NAME.fullmatch(audience):
            raise ConfigError(f"{self.kind}: audience name {audience!r} cannot be a directory name")
        outcomes, rows = self._hash(members)
        folder = self.config.directory / audience / self.kind
        self._revise(folder, f"{run_date}_{into}", add=rows)
        self._revise(folder, f"{run_date}_{out_of}", drop=set(rows).__contains__)
        return outcomes

    def _hash(self, members: list[Member]) -> tuple[list[Outcome], list[Row]]:
        outcomes, rows = [], []
        for member in members:
            row, reason = hashed_row(member.fields, self.phone_form)
            if row is None:
                outcomes.append(Outcome(member.customer_key, REJECTED, reason))
            else:
                rows.append(row)
                outcomes.append(Outcome(member.customer_key, DELIVERED, reason))
        return outcomes, rows

    def _revise(
        self, folder: Path, stem: str, add: Iterable[Row] = (), drop: Callable[[Row], bool] | None = None
    ) -> list[Row]:
        """Rewrite one file set (`stem`: `<run_date>_add` or `_remove`) as its rows minus those
        `drop` selects, then the new rows, each once; returns the dropped rows. Files whose content
        would not change are left alone; surplus files are deleted last."""
        existing = {path.name: path.read_text(encoding="ascii") for path in _chunks(folder, stem)}
        kept: list[Row] = []
        dropped: list[Row] = []
        for row in dict.fromkeys(_rows(existing.values())):
            (dropped if drop and drop(row) else kept).append(row)
        rows = list(dict.fromkeys([*kept, *add]))
        size = self.chunk_size() or max(len(rows), 1)
        wanted = {
            f"{stem}_{n}.csv": "".join([self.header + "\n", *(f"{e},{p}\n" for e, p in rows[start : start + size])])
            for n, start in enumerate(range(0, len(rows), size), 1)
        }
        for name, text in wanted.items():
            if existing.get(name) != text:
                _write_atomically(folder / name, text)
        for name in existing.keys() - wanted.keys():
            (folder / name).unlink()
        return dropped


class GoogleCustomerMatchFiles(AdAudienceFiles):
    """Customer Match customer data files (the Google Ads upload template's `Email`, `Phone`)."""

    kind = "google_customer_match"
    config_class = AdFilesConfig
    header = "Email,Phone"
    phone_form = staticmethod(google_phone)


class MetaCustomAudienceFiles(AdAudienceFiles):
    """Custom Audience customer files (the Marketing API's multi-key schema `EMAIL`, `PHONE`)."""

    kind = "meta_custom_audience"
    config_class = MetaFilesConfig
    header = "EMAIL,PHONE"
    phone_form = staticmethod(meta_phone)

    def chunk_size(self) -> int | None:
        return self.config.chunk_size


def _chunks(folder: Path, stem: str) -> list[Path]:
    """The files of one set, by number."""
    pattern = re.compile(re.escape(stem) + r"_([0-9]+)\.csv")
    found = {int(m.group(1)): path for path in folder.glob(f"{stem}_*.csv") if (m := pattern.fullmatch(path.name))}
    return [found[n] for n in sorted(found)]


def _stems(folder: Path, action: str) -> list[str]:
    """The stems (`<run_date>_<action>`) of the sets in a folder."""
    pattern = re.compile(rf"(.+_{action})_[0-9]+\.csv")
    return sorted({m.group(1) for path in folder.glob(f"*_{action}_*.csv") if (m := pattern.fullmatch(path.name))})


def _rows(texts: Iterable[str]) -> Iterable[Row]:
    for text in texts:
        for line in text.splitlines()[1:]:
            email, phone = line.split(",")
            yield email, phone


def _write_atomically(path: Path, text: str) -> None:
    """A temp file next to `path` (mode 0600), synced to disk, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="ascii", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

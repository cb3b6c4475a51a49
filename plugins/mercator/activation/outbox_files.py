"""Outbox destination: JSON Lines files for any sender to pick up, the embedded default.

Each upsert writes `<directory>/<audience>/<run_date>-<digest>.jsonl` (removals:
`<run_date>-removed-<digest>.jsonl`), the digest naming the members and payloads it holds: a rerun
that sends the same members rewrites the same file byte for byte, a later run adds a new file.
Files are written atomically (temp file, then rename).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from mercator.activation.destination import CHANNELS, DELIVERED, Destination, Member, Outcome, run_date_of


@dataclass(frozen=True)
class OutboxOptions:
    directory: str = "outbox"  # relative to the reports folder


class OutboxFiles(Destination):
    kind = "outbox"
    config_class = OutboxOptions
    channels = CHANNELS
    identifier = "customer_key"
    max_batch = 10**9  # one file per run: a crash and rerun rewrite the same file
    needs_connection = False

    def __init__(self, config: OutboxOptions, connection=None, reports_dir: Path | None = None) -> None:
        super().__init__(config, connection)
        self.directory = Path(reports_dir or ".") / config.directory

    def _write(self, audience: str, run_id: str, prefix: str, rows: list[dict]) -> Path:
        digest = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()[:12]
        target = self.directory / audience / f"{run_date_of(run_id)}-{prefix}{digest}.jsonl"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str) + "\n")
        tmp.replace(target)
        return target

    def upsert(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        rows = [{"customer_key": m.customer_key, **m.fields, "audience": audience} for m in members]
        target = self._write(audience, run_id, "", rows)
        return [Outcome(m.customer_key, DELIVERED, remote_id=target.name) for m in members]

    def remove(self, audience: str, members: list[Member], run_id: str) -> list[Outcome]:
        self._write(audience, run_id, "removed-", [{"customer_key": m.customer_key} for m in members])
        return [Outcome(m.customer_key, DELIVERED) for m in members]

"""Outbox destination: one JSON Lines file per audience and run date, for any sender to pick up."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mercator.activation.base import Destination


@dataclass(frozen=True)
class OutboxConfig:
    directory: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "directory", Path(self.directory))


class OutboxDestination(Destination):
    """Writes `<directory>/<audience>/<run_date>.jsonl` atomically (temp file, then rename)."""

    name = "outbox"
    config_class = OutboxConfig

    def send(self, audience: str, rows: list[dict], run_id: str, run_date: str) -> str:
        target = self.config.directory / audience / f"{run_date}.jsonl"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
        tmp.replace(target)
        return str(target)

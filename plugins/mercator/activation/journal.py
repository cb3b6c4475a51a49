"""A write-ahead journal of message sends, so that a crash never sends a message twice nor loses one.

For a destination that delivers messages, the engine appends `sending <key> <payload hash>` before
each request and `<status> <key> <payload hash> <remote id>` after its answer, flushed and fsynced,
and records outcomes in the warehouse only every few hundred members. A sync that starts after a crash first replays the
journal: a member with an answer is recorded as answered (never sent again), a member whose request
got no answer is `unknown` (held back and reconciled, never resent blindly). The journal holds
customer keys, statuses and message ids: nothing personal. One file per destination and audience,
next to the warehouse.
"""

from __future__ import annotations

import os
from pathlib import Path

from mercator.activation.destination import UNKNOWN, Member, Outcome

SENDING = "sending"


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_sync(cls, warehouse_dir: Path, destination: str, audience: str) -> Journal:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{destination}__{audience}")
        return cls(Path(warehouse_dir) / "activation_journal" / f"{safe}.log")

    def _append(self, lines: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write("".join(f"{line}\n" for line in lines))
            out.flush()
            os.fsync(out.fileno())

    def sending(self, members: list[Member]) -> None:
        self._append([f"{SENDING}\t{m.customer_key}\t{m.payload_hash}" for m in members])

    def answered(self, members: list[Member], outcomes: list[Outcome]) -> None:
        hashes = {m.customer_key: m.payload_hash for m in members}
        self._append([f"{o.status}\t{o.customer_key}\t{hashes[o.customer_key]}\t{o.remote_id or ''}"
                      for o in outcomes])

    def unrecorded(self) -> list[tuple[Member, Outcome]]:
        """What an interrupted sync learned but did not record: each key's last entry."""
        if not self.path.exists():
            return []
        last: dict[str, tuple[Member, Outcome]] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            status, key, digest, *rest = line.split("\t")
            member = Member(key, {}, digest)
            if status == SENDING:
                last[key] = (member, Outcome(key, UNKNOWN, "no answer before an interruption"))
            else:
                last[key] = (member, Outcome(key, status, "", (rest[0] if rest else "") or None))
        return list(last.values())

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

"""One batch of persons: generated with its own random stream, returned as CSV text per delivery file.

Batches are independent (seeded by (seed, batch number)), so they can run in worker processes
and the output is the same whatever the number of workers.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from mercator import contract
from mercator.demo.csvtext import csv_line, csv_text
from mercator.demo.formatting import Clock
from mercator.demo.malformed import malformed_row
from mercator.demo.params import DemoParams
from mercator.demo.purchases import simulate_person

BATCH_SIZE = 1000
EMPTY_ROWS = {e.path: dict.fromkeys(c.name for c in e.columns) for e in contract.ENTITIES}


@dataclass
class Sink:
    """Collects one batch's rows per delivery file, its truth records and ad clicks per day."""

    rows: dict[str, list[list[object]]] = field(default_factory=lambda: defaultdict(list))
    records: list[tuple[str, str, str, str]] = field(default_factory=list)
    visitors: dict[str, str] = field(default_factory=dict)
    shared_visitors: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    ad_clicks: Counter[tuple[int, str]] = field(default_factory=Counter)
    _files: dict[tuple[str, str], list[list[object]]] = field(default_factory=dict, repr=False)

    def add(self, path: str, delivery: str, **values: object) -> None:
        """A row of entity `path` (columns by name, missing ones empty) for delivery file `delivery`."""
        self.add_values(path, delivery, values)

    def add_values(self, path: str, delivery: str, values: dict[str, object]) -> None:
        """As `add`, the columns given as a dict (saves building keyword arguments on hot paths)."""
        template = EMPTY_ROWS[path]
        row = {**template, **values}
        if len(row) != len(template):
            raise KeyError(f"not a column of {path}: {sorted(row.keys() - template.keys())}")
        rows = self._files.get((path, delivery))
        if rows is None:
            rows = self._files[path, delivery] = self.rows[f"{path}/{path.split('/')[1]}_{delivery}.csv"]
        rows.append([*row.values()])

    def record(self, source: str, entity: str, record_id: str, person_id: str) -> None:
        self.records.append((source, entity, record_id, person_id))

    def visitor(self, anonymous_id: str, person_id: str) -> None:
        owner = self.visitors.setdefault(anonymous_id, person_id)
        if owner != person_id:
            self.shared_visitors[anonymous_id].add(person_id)


@dataclass
class FileChunk:
    text: str
    lines: int
    malformed: list[tuple[int, str]]  # (1-based line within the chunk, kind)


@dataclass
class BatchResult:
    chunks: dict[str, FileChunk]
    records: str
    shared_visitors: list[tuple[str, str, str]]
    ad_clicks: Counter[tuple[int, str]]


def encode(sink: Sink, params: DemoParams, bad_rng: random.Random) -> BatchResult:
    """CSV-encode each file's rows (contract column order), inserting malformed rows if asked."""
    chunks = {}
    for file, rows in sink.rows.items():
        if not params.malformed_share:
            chunks[file] = FileChunk(csv_text(rows), len(rows), [])
            continue
        entity = contract.entity(file.rsplit("/", 1)[0])
        lines: list[str] = []
        bad: list[tuple[int, str]] = []
        for values in rows:
            lines.append(csv_line(values))
            if bad_rng.random() < params.malformed_share:
                kind, broken = malformed_row(bad_rng, entity, values)
                lines.append(csv_line(broken))
                bad.append((len(lines), kind))
        chunks[file] = FileChunk("".join(lines), len(lines), bad)
    records = csv_text(sink.records)
    records += "".join([f"web,visitors,{anonymous_id},{owner}\n" for anonymous_id, owner in sink.visitors.items()])
    shared = [
        (a, sink.visitors[a], other) for a, others in sink.shared_visitors.items() for other in sorted(others)
    ]
    return BatchResult(chunks, records, shared, sink.ad_clicks)


def generate_batch(params: DemoParams, batch: int) -> BatchResult:
    """Persons batch*BATCH_SIZE onwards; now and then two neighbours share a browser."""
    rng = random.Random(f"mercator-demo/{params.seed}/{batch}")
    bad_rng = random.Random(f"mercator-demo/{params.seed}/{batch}/malformed")
    clock = Clock(params.start, params.window_days)
    sink = Sink()
    first = batch * BATCH_SIZE
    shared_from = None
    for index in range(first, min(first + BATCH_SIZE, params.n_customers)):
        browser = simulate_person(rng, params, clock, sink, index, shared_from)
        pair = rng.random() < params.shared_device_share / 2 and shared_from is None
        shared_from = browser if pair else None
    return encode(sink, params, bad_rng)

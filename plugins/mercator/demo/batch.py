"""One batch of persons: generated with its own random stream, returned as CSV text per delivery file.

Batches are independent (seeded by (seed, batch number)), so they can run in worker processes
and the output is the same whatever the number of workers.
"""

from __future__ import annotations

import csv
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from mercator import contract
from mercator.demo.formatting import Clock
from mercator.demo.malformed import malformed_row
from mercator.demo.params import DemoParams
from mercator.demo.purchases import simulate_person
from mercator.demo.tables import TimeFormat, csv_field, csv_lines, delivery_files, id_stream, row_segments
from mercator.gc_control import gc_paused

BATCH_SIZE = 1000
EMPTY_ROWS = {e.path: dict.fromkeys(c.name for c in e.columns) for e in contract.ENTITIES}


@dataclass
class Sink:
    """Collects one batch's rows per entity (tuples of segments, see `tables`) with each row's
    delivery (a day, filed by its quarter, or a label), its truth records and ad clicks per day."""

    rows: dict[str, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    deliveries: dict[str, list[object]] = field(default_factory=lambda: defaultdict(list))
    records: list[tuple[str, str, str, str]] = field(default_factory=list)
    visitors: dict[str, str] = field(default_factory=dict)
    shared_visitors: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    ad_clicks: Counter[tuple[int, str]] = field(default_factory=Counter)

    def add(self, path: str, delivery: object, **values: object) -> None:
        """A row of entity `path` (columns by name; missing or None ones empty) for delivery `delivery`."""
        template = EMPTY_ROWS[path]
        row = {**template, **values}
        if len(row) != len(template):
            raise KeyError(f"not a column of {path}: {sorted(row.keys() - template.keys())}")
        self.rows[path].append(row_segments(path, list(row.values())))
        self.deliveries[path].append(delivery)

    def table(self, path: str) -> tuple[list[tuple], list[object]]:
        """The row and delivery lists of an entity, for hot paths appending their rows' segments."""
        return self.rows[path], self.deliveries[path]

    def record(self, source: str, entity: str, record_id: str, person_id: str) -> None:
        self.records.append((source, entity, record_id, person_id))

    def visitor(self, anonymous_id: str, person_id: str) -> None:
        owner = self.visitors.setdefault(anonymous_id, person_id)
        if owner != person_id:
            self.shared_visitors[anonymous_id].add(person_id)

    def files(self, clock: Clock, ids: np.random.Generator) -> dict[str, list[str]]:
        """Per delivery file, its CSV lines (without "\\n") in the order the rows were added."""
        times = TimeFormat(clock)
        files = {}
        for path, rows in self.rows.items():
            lines = csv_lines(path, rows, times, ids)
            for file, numbers in delivery_files(path, self.deliveries[path], times).items():
                files[file] = [lines[i] for i in numbers.tolist()]
        return files


@dataclass
class FileChunk:
    data: bytes
    lines: int
    malformed: list[tuple[int, str]]  # (1-based line within the chunk, kind)


@dataclass
class BatchResult:
    chunks: dict[str, FileChunk]
    records: bytes
    shared_visitors: list[tuple[str, str, str]]
    ad_clicks: Counter[tuple[int, str]]


def _chunk(entity: contract.Entity, lines: list[str], share: float, bad_rng: random.Random) -> FileChunk:
    """A file's lines as CSV, with a malformed copy after a share of them (each listed by its line)."""
    if not share:
        return FileChunk(("\n".join(lines) + "\n").encode(), len(lines), [])
    written: list[str] = []
    bad: list[tuple[int, str]] = []
    for line in lines:
        written.append(line)
        if bad_rng.random() < share:
            kind, broken = malformed_row(bad_rng, entity, next(csv.reader([line])))
            written.append(",".join(map(csv_field, broken)))
            bad.append((len(written), kind))
    return FileChunk(("\n".join(written) + "\n").encode(), len(written), bad)


def encode(
    sink: Sink, clock: Clock, params: DemoParams, ids: np.random.Generator, bad_rng: random.Random
) -> BatchResult:
    """CSV-encode each delivery file's rows (contract column order), inserting malformed rows if asked."""
    chunks = {}
    for file, lines in sink.files(clock, ids).items():
        chunks[file] = _chunk(contract.entity(file.rsplit("/", 1)[0]), lines, params.malformed_share, bad_rng)
    records = "".join([f"{s},{e},{r},{p}\n" for s, e, r, p in sink.records])
    records += "".join([f"web,visitors,{anonymous_id},{owner}\n" for anonymous_id, owner in sink.visitors.items()])
    shared = [
        (a, sink.visitors[a], other) for a, others in sink.shared_visitors.items() for other in sorted(others)
    ]
    return BatchResult(chunks, records.encode(), shared, sink.ad_clicks)


def generate_batch(params: DemoParams, batch: int) -> BatchResult:
    """Persons batch*BATCH_SIZE onwards; now and then two neighbours share a browser."""
    with gc_paused():
        return _generate_batch(params, batch)


def _generate_batch(params: DemoParams, batch: int) -> BatchResult:
    name = f"mercator-demo/{params.seed}/{batch}"
    rng = random.Random(name)
    bad_rng = random.Random(f"{name}/malformed")
    ids = id_stream(f"{name}/ids")
    clock = Clock(params.start, params.window_days)
    sink = Sink()
    first = batch * BATCH_SIZE
    shared_from = None
    for index in range(first, min(first + BATCH_SIZE, params.n_customers)):
        browser = simulate_person(rng, params, clock, sink, index, shared_from)
        pair = rng.random() < params.shared_device_share / 2 and shared_from is None
        shared_from = browser if pair else None
    return encode(sink, clock, params, ids, bad_rng)

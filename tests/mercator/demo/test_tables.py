"""Rows formatted a column at a time: fields quoted as csv.writer quotes them, times as each source writes
them, fresh ids."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import numpy as np
from mercator.demo.formatting import Clock
from mercator.demo.tables import SEGMENTS, TimeFormat, csv_field, csv_lines, fresh_ids, row_segments

ROWS = [
    ["a", None, 3, "", " spaced\t", "x@y.com"],
    ["12,5O", 'say "hi"', "line\nbreak", "cr\r", None],
    ["", ""],
    [0, -7, "https://shop.example/?a=1&b=2"],
]


def test_fields_as_csv_writer_writes_them() -> None:
    for row in ROWS:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(row)
        assert ",".join(map(csv_field, row)) + "\n" == buffer.getvalue()


def test_rows_as_segments_then_lines() -> None:
    clock = Clock(date(2024, 11, 1), 730)
    assert [kind for kind, _ in SEGMENTS["web/events"]] == ["id", "text", "time", "text"]
    values = ["o1", "", "a@x", "", "", 1.0, "12.00", "USD", "0.00", None, "paid", "0.00", "web", 2.5]
    row = row_segments("shop/orders", values)
    (line,) = csv_lines("shop/orders", [row], TimeFormat(clock), np.random.default_rng(1))
    assert line == "o1,,a@x,,,2024-11-02T00:00:00Z,12.00,USD,0.00,,paid,0.00,web,2024-11-03T12:00:00Z"


def test_times_as_each_source_writes_them() -> None:
    times = TimeFormat(Clock(date(2024, 11, 1), 730))
    t = [0.0, 1.5 + 0.1234 / 86400, 729.99999]
    assert times.format(t, "Z") == ["2024-11-01T00:00:00Z", "2024-11-02T12:00:00Z", "2026-10-31T23:59:59Z"]
    assert times.format(t, "millis")[1] == "2024-11-02T12:00:00.123Z"
    assert times.format(t, "+00:00")[0] == "2024-11-01T00:00:00+00:00"
    assert times.format(t, "")[0] == "2024-11-01T00:00:00"
    assert times.format(t, "unix")[0] == "1730419200"
    labels = times.clock.quarter_labels
    assert [labels[q] for q in times.quarters(t)] == ["2024Q4", "2024Q4", "2026Q4"]


def test_fresh_ids_look_like_the_sources_ids() -> None:
    ids = np.random.default_rng(1)
    uuids = fresh_ids(ids, 1000, "uuid")
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}", u) for u in uuids)
    assert len(set(uuids)) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{22}", h) for h in fresh_ids(ids, 100, "hex22"))

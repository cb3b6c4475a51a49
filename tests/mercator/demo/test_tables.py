"""Columns formatted at once: CSV lines as csv.writer writes them, times as the sources write them, fresh ids."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import numpy as np
from mercator.demo.formatting import Clock
from mercator.demo.tables import TimeFormat, csv_lines, fresh_ids

ROWS = [
    ["a", "", "3", "", " spaced\t", "x@y.com"],
    ["12,5O", 'say "hi"', "line\nbreak", "cr\r", ""],
    ["", ""],
    ["0", "-7", "https://shop.example/?a=1&b=2"],
]


def test_same_lines_as_csv_writer() -> None:
    for rows in (ROWS[2:], ROWS, [[""], ["only"]]):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        lines = []
        for row in rows:  # csv_lines takes the rows of one table: as columns of equal length
            lines += csv_lines([[value] for value in row])
        assert "".join(line + "\n" for line in lines) == buffer.getvalue()
    columns = [["a", "b"], ["c", "d,e"]]
    assert csv_lines(columns) == ["a,c", 'b,"d,e"']


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

"""The fast CSV encoder writes exactly what csv.writer writes."""

from __future__ import annotations

import csv
import io

from mercator.demo.csvtext import csv_line, csv_text

ROWS = [
    ["a", None, 3, "", " spaced\t", "x@y.com"],
    ["12,5O", "say \"hi\"", "line\nbreak", "cr\r", None],
    [""],
    [None],
    ["only"],
    ["", ""],
    [0, -7, "https://shop.example/?a=1&b=2"],
]


def test_same_text_as_csv_writer() -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(ROWS)
    assert csv_text(ROWS) == buffer.getvalue()
    assert "".join(csv_line(row) for row in ROWS) == buffer.getvalue()

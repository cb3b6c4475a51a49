"""Physical line numbers of CSV records, from the bytes (RFC 4180: quotes come in pairs).

A line starts outside any quoted field when an even number of `"` precede it. DuckDB's reject
`line` counts exactly those lines (blank ones included); records start on the non-blank ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEWLINE, QUOTE, CR = 10, 34, 13


@dataclass(frozen=True)
class CsvLines:
    outside_quotes: np.ndarray
    """Physical numbers of the lines that start outside quotes; DuckDB's line L is element L-1."""
    records: np.ndarray
    """Physical numbers of the lines where a data record starts (header excluded)."""


def csv_lines(data: bytes) -> CsvLines:
    arr = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(arr == NEWLINE)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [arr.size]))
    if starts[-1] == arr.size:
        starts, ends = starts[:-1], ends[:-1]
    quotes = np.flatnonzero(arr == QUOTE)
    outside = np.searchsorted(quotes, starts) % 2 == 0
    length = ends - starts
    first_byte = arr[np.minimum(starts, max(arr.size - 1, 0))] if arr.size else np.zeros(0, np.uint8)
    blank = (length == 0) | ((length == 1) & (first_byte == CR))
    numbers = np.arange(1, starts.size + 1, dtype=np.int64)
    return CsvLines(outside_quotes=numbers[outside], records=numbers[outside & ~blank][1:])

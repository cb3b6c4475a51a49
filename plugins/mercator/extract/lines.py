"""Physical line numbers of CSV records, streamed from the file (RFC 4180: quotes come in pairs).

A line starts outside any quoted field when an even number of `"` precede it. DuckDB's reject
`line` counts exactly those lines (blank ones included); records start on the non-blank ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, pairwise
from pathlib import Path

import numpy as np

from mercator.extract.chunks import file_chunks

NEWLINE, QUOTE, CR = 10, 34, 13


def unquoted_line_count(path: Path) -> int | None:
    """Lines in the file, the last one counted whether or not it ends with a newline; None when the
    file holds a quote."""
    count, last = 0, b"\n"
    for chunk in file_chunks(path):
        if b'"' in chunk:
            return None
        count += chunk.count(b"\n")
        last = chunk[-1:]
    return count + (last != b"\n")


@dataclass(frozen=True)
class CsvLines:
    """One chunk's share of the lines of a CSV file."""

    good: np.ndarray
    """Physical lines where the records DuckDB loaded start (header excluded), in file order."""
    rejected_duckdb_lines: np.ndarray
    """DuckDB's numbers of the rejected lines in the chunk..."""
    rejected_lines: np.ndarray
    """...and their physical numbers."""


def csv_lines(path: Path, rejected_duckdb_lines: np.ndarray) -> Iterator[CsvLines]:
    """The good and the rejected lines, a chunk at a time; `rejected_duckdb_lines` are DuckDB's
    numbers of the lines it rejected (it numbers the lines that start outside quotes, from 1)."""
    duckdb_before, header_seen = 0, False
    for outside, blank in _outside_quote_lines(path):
        duckdb = np.arange(duckdb_before + 1, duckdb_before + 1 + outside.size)
        duckdb_before += outside.size
        is_rejected = np.isin(duckdb, rejected_duckdb_lines)
        record = ~blank
        if not header_seen and record.any():
            record[np.argmax(record)] = False
            header_seen = True
        yield CsvLines(outside[record & ~is_rejected], duckdb[is_rejected], outside[is_rejected])


def _outside_quote_lines(path: Path) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Chunk by chunk, the physical numbers of the lines starting in it outside quotes, and whether
    each is blank (empty, or a lone CR)."""
    lines_before, quotes_before, at_line_start = 0, 0, True
    for chunk, following in pairwise(chain(file_chunks(path), [b""])):
        size = len(chunk)
        arr = np.frombuffer(chunk + (following[:1] or b"\n"), dtype=np.uint8)  # the byte after each start
        starts = np.flatnonzero(arr[: size - 1] == NEWLINE) + 1  # a start at `size` is the next chunk's
        if at_line_start:
            starts = np.concatenate(([0], starts))
        quotes = np.flatnonzero(arr[:size] == QUOTE)
        outside = (quotes_before + np.searchsorted(quotes, starts)) % 2 == 0
        blank = (arr[starts] == NEWLINE) | ((arr[starts] == CR) & (arr[starts + 1] == NEWLINE))
        numbers = np.arange(lines_before + 1, lines_before + 1 + starts.size)
        yield numbers[outside], blank[outside]
        lines_before += starts.size
        quotes_before += quotes.size
        at_line_start = chunk.endswith(b"\n")

"""CSV text exactly as `csv.writer(lineterminator="\\n")` writes it, about twice as fast for plain rows.

A row whose fields hold no comma, quote or line break needs no quoting: it is joined with
`str.join`; any other row (and a one-field row, where csv quotes an empty field) goes through
`csv.writer`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence


def _quoted(row: Sequence[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row)
    return buffer.getvalue()


def csv_line(row: Sequence[object]) -> str:
    """One row as a CSV line, with its "\\n"."""
    line = ",".join(["" if value is None else str(value) for value in row])
    if line.count(",") != len(row) - 1 or '"' in line or "\n" in line or "\r" in line or len(row) == 1:
        return _quoted(row)
    return line + "\n"


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """Rows as CSV lines."""
    return "".join([csv_line(row) for row in rows])

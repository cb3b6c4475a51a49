"""A batch's rows of one entity formatted column by column with numpy: times, fresh ids, delivery files.

Rows come as tuples in contract column order. Timestamp columns (contract types `timestamp` and
`unix_timestamp`) hold fractional days since the window start; the event id columns in
`FRESH_IDS` hold None and get random ids here; every other value is a string (empty when
missing) or, in `int` columns, an int. Each row also has a delivery: a day (the file of
its quarter) or a label such as `01_export`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence

import numpy as np

from mercator import contract
from mercator.demo.formatting import Clock

# Timestamps as each source writes them (the default: seconds, UTC "Z").
TIME_STYLE = {"web/events": "millis", "app/events": "+00:00", "pos/transactions": ""}
# Columns filled with fresh random ids: (column, kind).
FRESH_IDS = {
    "web/events": ("event_id", "uuid"),
    "app/events": ("event_id", "uuid"),
    "email/events": ("sg_event_id", "hex22"),
}
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# Where a uuid's hex digits go among its 36 characters (version 4, variant 'a' fixed as before).
UUID_DIGITS = np.r_[0:8, 9:13, 15:18, 20:23, 24:36]
UUID_SOURCE = np.r_[0:8, 8:12, 13:16, 17:20, 20:32]


def id_stream(name: str) -> np.random.Generator:
    """The numpy random stream a batch draws its fresh ids from, seeded by a name."""
    return np.random.default_rng(int.from_bytes(hashlib.sha256(name.encode()).digest()[:16]))


def _hex_digits(ids: np.random.Generator, n: int, digits: int) -> np.ndarray:
    """n rows of `digits` random lowercase hex digits, as ASCII codes."""
    nibbles = ids.integers(0, 16, size=(n, digits), dtype=np.uint8)
    return HEX[nibbles]


def _split(codes: np.ndarray, width: int) -> list[str]:
    text = codes.tobytes().decode("ascii")
    return [text[i : i + width] for i in range(0, len(text), width)]


def fresh_ids(ids: np.random.Generator, n: int, kind: str) -> list[str]:
    """n random ids: "uuid" (version 4 form) or "hex22" (SendGrid event ids)."""
    if kind == "hex22":
        return _split(_hex_digits(ids, n, 22), 22)
    codes = np.full((n, 36), ord("-"), dtype=np.uint8)
    codes[:, UUID_DIGITS] = _hex_digits(ids, n, 32)[:, UUID_SOURCE]
    codes[:, 14], codes[:, 19] = ord("4"), ord("a")
    return _split(codes, 36)


class TimeFormat:
    """Fractional days since the window start as timestamp strings, a whole column at once."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.dates = np.array(clock.dates, dtype=object)
        self.times = np.array(Clock.TIMES, dtype=object)
        self.quarter_codes = np.array([clock.quarter_labels.index(q) for q in clock.quarters], dtype=np.int64)
        self.millis = np.array([f".{m:03d}Z" for m in range(1000)], dtype=object)

    def _day_index(self, t: np.ndarray) -> np.ndarray:
        return np.floor(t).astype(np.int64) + Clock.MARGIN_DAYS

    def format(self, t: Sequence[float], style: str) -> list[str]:
        """`style`: "Z", "+00:00" or "" (a suffix after whole seconds), "millis" or "unix"."""
        days = np.asarray(t, dtype=np.float64)
        if style == "unix":
            return [str(s) for s in (np.floor(days * 86400).astype(np.int64) + self.clock.epoch).tolist()]
        if style == "millis":
            ms = np.floor(days * 86_400_000).astype(np.int64)
            seconds = ms // 1000
            texts = self.dates[seconds // 86400 + Clock.MARGIN_DAYS] + self.times[seconds % 86400]
            return (texts + self.millis[ms % 1000]).tolist()
        seconds = np.floor(days * 86400).astype(np.int64)
        texts = self.dates[seconds // 86400 + Clock.MARGIN_DAYS] + self.times[seconds % 86400]
        return (texts + style).tolist() if style else texts.tolist()

    def quarters(self, t: Sequence[float]) -> np.ndarray:
        """Index into `clock.quarter_labels` of each time's quarter."""
        return self.quarter_codes[self._day_index(np.asarray(t, dtype=np.float64))]


def _quoted(row: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row)
    return buffer.getvalue()[:-1]


def csv_lines(columns: list[Sequence[str]]) -> list[str]:
    """Rows (given as columns of strings) as CSV lines without their "\\n", quoted as csv.writer quotes."""
    lines = list(map(",".join, zip(*columns, strict=True)))
    text = "\n".join(lines)
    plain = text.count(",") == len(lines) * (len(columns) - 1) and text.count("\n") == len(lines) - 1
    if plain and '"' not in text and "\r" not in text and len(columns) > 1:
        return lines
    return [_quoted(row) for row in zip(*columns, strict=True)]


def format_columns(path: str, rows: list[tuple], times: TimeFormat, ids: np.random.Generator) -> list[Sequence[str]]:
    """The entity's rows as columns of strings, times, ints and fresh ids formatted."""
    entity = contract.entity(path)
    style = TIME_STYLE.get(path, "Z")
    fresh = FRESH_IDS.get(path)
    columns: list[Sequence[str]] = []
    for column, values in zip(entity.columns, zip(*rows, strict=False), strict=True):
        if fresh and column.name == fresh[0]:
            columns.append(fresh_ids(ids, len(values), fresh[1]))
        elif column.type in ("timestamp", "unix_timestamp"):
            columns.append(times.format(values, "unix" if column.type == "unix_timestamp" else style))
        elif column.type == "int":
            columns.append([str(v) for v in values])
        else:
            columns.append(values)
    return columns


def delivery_files(path: str, deliveries: list[object], times: TimeFormat) -> dict[str, np.ndarray]:
    """Row numbers (in order) per delivery file: by quarter of a day, or by label."""
    name = path.split("/")[1]
    if deliveries and isinstance(deliveries[0], str):
        labels = sorted(set(deliveries))
        keys = np.array([labels.index(d) for d in deliveries]) if len(labels) > 1 else np.zeros(len(deliveries))
    else:
        labels = times.clock.quarter_labels
        keys = times.quarters(deliveries)
    order = np.argsort(keys, kind="stable")
    present, starts = np.unique(keys[order], return_index=True)
    bounds = [*starts.tolist(), len(order)]
    return {
        f"{path}/{name}_{labels[int(key)]}.csv": order[bounds[i] : bounds[i + 1]]
        for i, key in enumerate(present.tolist())
    }

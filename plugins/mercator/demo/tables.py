"""A batch's rows of one entity as CSV lines: times, fresh ids and delivery files a column at a time.

A row is a tuple of its entity's `segments`: a timestamp column (contract types `timestamp` and
`unix_timestamp`) holds fractional days since the window start, formatted here with numpy; an
event id column of `FRESH_IDS` holds None and gets a random id here; the columns between them
come as one text, already CSV (hot paths write it with an f-string; `row_segments` makes it from
values). Each row also has a delivery: a day (the file of its quarter) or a label such as
`01_export`.
"""

from __future__ import annotations

import hashlib
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
TIME_TYPES = ("timestamp", "unix_timestamp")
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# Where a uuid's hex digits go among its 36 characters (version 4, variant 'a' fixed as before).
UUID_DIGITS = np.r_[0:8, 9:13, 15:18, 20:23, 24:36]
UUID_SOURCE = np.r_[0:8, 8:12, 13:16, 17:20, 20:32]


def id_stream(name: str) -> np.random.Generator:
    """The numpy random stream a batch draws its fresh ids from, seeded by a name."""
    return np.random.default_rng(int.from_bytes(hashlib.sha256(name.encode()).digest()[:16]))


def _hex_digits(ids: np.random.Generator, n: int, digits: int) -> np.ndarray:
    """n rows of `digits` (even) random lowercase hex digits, as ASCII codes."""
    octets = np.frombuffer(ids.bytes(n * digits // 2), dtype=np.uint8)
    codes = np.empty(n * digits, dtype=np.uint8)
    codes[0::2], codes[1::2] = HEX[octets >> 4], HEX[octets & 15]
    return codes.reshape(n, digits)


def _split(codes: np.ndarray) -> list[str]:
    """Rows of ASCII codes as strings."""
    return [row.decode() for row in codes.view(f"S{codes.shape[1]}").ravel().tolist()]


def fresh_ids(ids: np.random.Generator, n: int, kind: str) -> list[str]:
    """n random ids: "uuid" (version 4 form) or "hex22" (SendGrid event ids)."""
    if kind == "hex22":
        return _split(_hex_digits(ids, n, 22))
    codes = np.full((n, 36), ord("-"), dtype=np.uint8)
    codes[:, UUID_DIGITS] = _hex_digits(ids, n, 32)[:, UUID_SOURCE]
    codes[:, 14], codes[:, 19] = ord("4"), ord("a")
    return _split(codes)


class TimeFormat:
    """Fractional days since the window start as timestamp strings, a whole column at once."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.dates = np.array(clock.dates, dtype=object)
        self.times = TIMES_OF_DAY
        self.quarter_codes = np.array([clock.quarter_labels.index(q) for q in clock.quarters], dtype=np.int64)

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
            return (texts + MILLIS[ms % 1000]).tolist()
        seconds = np.floor(days * 86400).astype(np.int64)
        texts = self.dates[seconds // 86400 + Clock.MARGIN_DAYS] + self.times[seconds % 86400]
        return (texts + style).tolist() if style else texts.tolist()

    def quarters(self, t: Sequence[float]) -> np.ndarray:
        """Index into `clock.quarter_labels` of each time's quarter."""
        return self.quarter_codes[self._day_index(np.asarray(t, dtype=np.float64))]


def csv_field(value: object) -> str:
    """One value as csv.writer writes it (quoted if it holds a comma, quote or line break)."""
    text = "" if value is None else str(value)
    if "," in text or '"' in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_text(values: list[object]) -> str:
    """Values as CSV fields joined by commas (plain join unless one needs quoting)."""
    texts = ["" if v is None else str(v) for v in values]
    text = ",".join(texts)
    if text.count(",") == len(texts) - 1 and '"' not in text and "\n" not in text:
        return text
    return ",".join(map(csv_field, texts))


def segments(path: str) -> list[tuple[str, list[int]]]:
    """The entity's columns in row segments: each timestamp and fresh id column on its own ("time",
    "id"), the runs of columns between them as one pre-joined "text" segment."""
    entity = contract.entity(path)
    fresh = FRESH_IDS.get(path, ("",))[0]
    layout: list[tuple[str, list[int]]] = []
    for i, column in enumerate(entity.columns):
        kind = "id" if column.name == fresh else "time" if column.type in TIME_TYPES else "text"
        if kind == "text" and layout and layout[-1][0] == "text":
            layout[-1][1].append(i)
        else:
            layout.append((kind, [i]))
    return layout


def row_segments(path: str, values: Sequence[object]) -> tuple[object, ...]:
    """A row given in contract column order (None empty) as its entity's segments."""
    return tuple(
        [
            _csv_text([values[i] for i in columns]) if kind == "text" else values[columns[0]]
            for kind, columns in SEGMENTS[path]
        ]
    )


def csv_lines(path: str, rows: list[tuple], times: TimeFormat, ids: np.random.Generator) -> list[str]:
    """The entity's rows (as segments) as CSV lines without their "\\n": times and fresh ids formatted."""
    style = TIME_STYLE.get(path, "Z")
    fresh = FRESH_IDS.get(path, ("", ""))[1]
    columns: list[Sequence[str]] = []
    for (kind, numbers), values in zip(SEGMENTS[path], zip(*rows, strict=False), strict=True):
        if kind == "id":
            columns.append(fresh_ids(ids, len(values), fresh))
        elif kind == "time":
            unix = contract.entity(path).columns[numbers[0]].type == "unix_timestamp"
            columns.append(times.format(values, "unix" if unix else style))
        else:
            columns.append(values)
    return list(map(",".join, zip(*columns, strict=True)))


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


SEGMENTS = {e.path: segments(e.path) for e in contract.ENTITIES}
TIMES_OF_DAY = np.array(Clock.TIMES, dtype=object)
MILLIS = np.array([f".{m:03d}Z" for m in range(1000)], dtype=object)

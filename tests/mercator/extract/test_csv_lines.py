"""`_line` is the physical line where a record starts, checked against Python's csv module."""

import csv
import io
import random

from .conftest import rows

HEADER = "order_id,ordered_at,total_amount,email"


def random_csv(rng: random.Random, records: int) -> str:
    lines = [HEADER]
    for i in range(records):
        kind = rng.choice(["good", "good", "multiline", "blank_before", "short", "long", "bad_amount"])
        email = '"line one\nline two"' if kind == "multiline" else f"u{i}@x.com"
        amount = "abc" if kind == "bad_amount" else f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}"
        fields = [f"o{i}", "2026-03-01T10:00:00Z", amount, email]
        if kind == "short":
            fields = fields[:2]
        if kind == "long":
            fields.append("extra")
        if kind == "blank_before":
            lines.append("")
        lines.append(",".join(fields))
    return "\n".join(lines) + "\n"


def record_start_lines(text: str) -> dict[str, int]:
    """order_id -> physical line where its record starts, per Python's csv reader."""
    reader = csv.reader(io.StringIO(text))
    starts, previous_end = {}, 0
    for record in reader:
        if record and record[0] != "order_id":
            starts[record[0]] = previous_end + 1 + _leading_blank_lines(text, previous_end)
        previous_end = reader.line_num
    return starts


def _leading_blank_lines(text: str, after_line: int) -> int:
    count = 0
    for line in text.split("\n")[after_line:]:
        if line:
            break
        count += 1
    return count


def test_loaded_and_quarantined_rows_carry_the_physical_start_line(con, write, load) -> None:
    text = random_csv(random.Random(7), 400)
    write("shop/orders/d1.csv", text)

    [file] = load("shop/orders").files

    expected = record_start_lines(text)
    loaded = dict(rows(con, "select order_id, _line from raw.shop__orders"))
    quarantined = {
        line: (record.split(",")[0] if not record.startswith("{") else record.split('"')[3])
        for line, record in rows(con, "select line, record from raw.quarantine")
    }
    assert loaded == {k: v for k, v in expected.items() if k in loaded}
    assert {order_id: line for line, order_id in quarantined.items()} == {
        k: v for k, v in expected.items() if k not in loaded
    }
    assert file.rows_in == len(expected) == file.rows_loaded + file.rows_quarantined
    assert file.rows_quarantined > 0 and file.rows_loaded > 0

"""Every entity loads from CSV, JSON Lines and Parquet through the same validation."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pytest
from mercator import contract

from .conftest import csv_text, quarantine, rows

SAMPLE_TEXT = {
    "text": "v",
    "int": "42",
    "money": "12.50",
    "timestamp": "2026-03-01T14:05:00Z",
    "unix_timestamp": "1772373900",
    "date": "2026-03-01",
}
EXPECTED = {
    "text": "v",
    "int": 42,
    "money": Decimal("12.50"),
    "timestamp": datetime(2026, 3, 1, 14, 5, tzinfo=UTC),
    "unix_timestamp": datetime.fromtimestamp(1772373900, UTC),
    "date": date(2026, 3, 1),
}


def sample_row(entity: contract.Entity) -> dict[str, str]:
    return {c.name: SAMPLE_TEXT[c.type] for c in entity.columns}


def write_delivery(write, landing, entity: contract.Entity, fmt: str, records: list[dict[str, str]]) -> str:
    relative = f"{entity.path}/delivery.{fmt}"
    if fmt == "csv":
        header = list(records[0])
        write(relative, csv_text(header, [[r[h] for h in header] for r in records]))
    elif fmt == "jsonl":
        write(relative, "".join(json.dumps(r) + "\n" for r in records))
    else:
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_parquet(path, entity, records)
    return relative


PARQUET_TYPES = {
    "text": "varchar",
    "int": "bigint",
    "money": "decimal(18, 2)",
    "timestamp": "timestamptz",
    "unix_timestamp": "bigint",
    "date": "date",
}


def _write_parquet(path, entity: contract.Entity, records: list[dict[str, str]]) -> None:
    """Parquet with native types, as a writer that knows the contract would produce."""
    selects = [
        "select " + ", ".join(
            f"cast('{r[c.name]}' as {PARQUET_TYPES[c.type]}) as \"{c.name}\"" for c in entity.columns
        )
        for r in records
    ]
    duckdb.connect().execute(f"copy ({' union all '.join(selects)}) to '{path}' (format parquet)")


@pytest.mark.parametrize("fmt", contract.FILE_FORMATS)
@pytest.mark.parametrize("entity", contract.ENTITIES, ids=lambda e: e.path)
def test_every_entity_loads_every_column_typed(con, write, landing, load, entity, fmt) -> None:
    write_delivery(write, landing, entity, fmt, [sample_row(entity), sample_row(entity)])

    [file] = load(entity.path).files

    assert (file.rows_in, file.rows_loaded, file.rows_quarantined) == (2, 2, 0)
    names = ", ".join(f'"{c.name}"' for c in entity.columns)
    got = rows(con, f"select {names}, _line from raw.{entity.raw_table} order by _line")
    expected = tuple(EXPECTED[c.type] for c in entity.columns)
    assert got == [(*expected, 2 if fmt == "csv" else 1), (*expected, 3 if fmt == "csv" else 2)]


def test_jsonl_bad_lines_are_quarantined_with_their_line(con, write, load) -> None:
    good = {"email": "a@x.com", "timestamp": 1772373900, "event": "open", "asm_group_id": 7}
    lines = [
        json.dumps(good),  # 1
        "",  # 2 blank: not a record
        "{not json",  # 3
        "[1, 2]",  # 4
        json.dumps({**good, "timestamp": "yesterday"}),  # 5
        json.dumps({**good, "email": None}),  # 6
        json.dumps({**good, "sg_event_id": "e9", "ip": "10.0.0.1"}),  # 7: extra key
    ]
    write("email/events/d1.jsonl", "\n".join(lines) + "\n")

    [file] = load("email/events").files

    assert quarantine(con, "email/events/d1.jsonl") == {
        3: "invalid JSON",
        4: "not a JSON object: array",
        5: "timestamp: not unix seconds 'yesterday'",
        6: "email: required value missing",
    }
    assert rows(con, "select _line, timestamp, asm_group_id, ip from raw.email__events order by _line") == [
        (1, datetime.fromtimestamp(1772373900, UTC), 7, None),
        (7, datetime.fromtimestamp(1772373900, UTC), 7, "10.0.0.1"),
    ]
    assert (file.rows_in, file.rows_loaded, file.rows_quarantined) == (6, 2, 4)


def test_jsonl_record_is_the_source_line(con, write, load) -> None:
    line = '{"email": "a@x.com", "timestamp": 1.5e99, "event": "open"}'
    write("email/events/d1.jsonl", line + "\n")

    load("email/events")

    assert rows(con, "select reason, record from raw.quarantine") == [
        ("timestamp: not unix seconds '1.5e99'", line)
    ]


def test_parquet_typed_columns_and_bad_values(con, landing, load) -> None:
    path = landing / "ads/spend/d1.parquet"
    path.parent.mkdir(parents=True)
    duckdb.connect().execute(f"""
        copy (
          select * from (values
            (date '2026-03-01', 'google_ads', 'c1', 12.5::decimal(10, 2), 100,
             timestamptz '2026-03-01 10:00:00+02'),
            (date '2026-03-02', 'meta_ads', 'c2', null, 5, null)
          ) as t(date, platform, campaign_id, spend, clicks, exported_at)
        ) to '{path}' (format parquet)
    """)

    [file] = load("ads/spend").files

    assert quarantine(con, "ads/spend/d1.parquet") == {2: "spend: required value missing"}
    assert rows(con, "select date, platform, spend, clicks, exported_at, _line from raw.ads__spend") == [
        (date(2026, 3, 1), "google_ads", Decimal("12.50"), 100, "2026-03-01T08:00:00.000000Z", 1)
    ]
    assert (file.rows_in, file.rows_loaded, file.rows_quarantined) == (2, 1, 1)


def test_unreadable_parquet_is_quarantined_whole(con, write, load) -> None:
    write("ads/spend/d1.parquet", b"PAR1 this is not really parquet")

    [file] = load("ads/spend").files

    [(line, reason)] = rows(con, "select line, reason from raw.quarantine")
    assert line is None and reason.startswith("not a readable Parquet file")
    assert (file.rows_in, file.rows_quarantined) == (1, 1)


def test_mixed_formats_in_one_entity_load_in_one_run(con, write, landing, load) -> None:
    entity = contract.entity("ads/spend")
    write_delivery(write, landing, entity, "jsonl", [sample_row(entity)])
    for name, fmt in [("a", "csv"), ("b", "parquet"), ("c", "csv")]:
        relative = write_delivery(write, landing, entity, fmt, [sample_row(entity)])
        (landing / relative).rename(landing / f"{entity.path}/{name}.{fmt}")

    files = load(entity.path).files

    assert [(f.file.rsplit("/", 1)[1], f.rows_loaded) for f in files] == [
        ("a.csv", 1), ("b.parquet", 1), ("c.csv", 1), ("delivery.jsonl", 1)
    ]
    assert rows(con, "select count(*), count(distinct _file) from raw.ads__spend") == [(4, 4)]


def test_jsonl_line_with_invalid_utf8_is_quarantined(con, write, load) -> None:
    good = json.dumps({"email": "zoë@x.com", "timestamp": 1772373900, "event": "open"}, ensure_ascii=False)
    write("email/events/d1.jsonl", (good + "\n" + good.replace("zoë", "@@") + "\n" + good + "\n").encode()
          .replace(b"@@", b"zo\xeb"))

    [file] = load("email/events").files

    assert quarantine(con, "email/events/d1.jsonl") == {2: "invalid UTF-8 encoding"}
    assert rows(con, "select _line, email from raw.email__events order by _line") == [
        (1, "zoë@x.com"), (3, "zoë@x.com")
    ]
    assert (file.rows_in, file.rows_loaded, file.rows_quarantined) == (3, 2, 1)

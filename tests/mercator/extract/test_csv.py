"""CSV deliveries: typing, extras, missing columns, bad rows with reasons and physical lines."""

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from mercator import contract

from .conftest import csv_record_count, csv_text, quarantine, rows

ORDERS = "shop/orders"
HEADER = ["order_id", "ordered_at", "total_amount", "email"]


def test_good_orders_are_typed_and_carry_load_metadata(con, write, load) -> None:
    data = [["o1", "2026-03-01T14:05:00+01:00", "10.50", "A@x.com"], ["o2", "2026-03-02T08:00:00Z", "3", ""]]
    path = write("shop/orders/d1.csv", csv_text(HEADER, data))

    result = load(ORDERS)

    got = rows(con, "select order_id, ordered_at, total_amount, email, _file, _line, _delivery_hash, "
                    "_load_id from raw.shop__orders order by _line")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert got == [
        ("o1", datetime(2026, 3, 1, 14, 5, tzinfo=timezone(timedelta(hours=1))), Decimal("10.50"), "A@x.com",
         "shop/orders/d1.csv", 2, digest, "L1"),
        ("o2", datetime(2026, 3, 2, 8, tzinfo=UTC), Decimal("3.00"), None,
         "shop/orders/d1.csv", 3, digest, "L1"),
    ]
    [file] = result.files
    assert (file.status, file.rows_in, file.rows_loaded, file.rows_quarantined) == ("loaded", 2, 2, 0)


def test_extra_column_is_appended_as_varchar_and_missing_optional_columns_are_null(con, write, load) -> None:
    write("shop/orders/d1.csv", csv_text([*HEADER, "loyalty_tier"], [["o1", "2026-03-01", "1", "e", "gold"]]))

    load(ORDERS)

    columns = dict(rows(con, "select column_name, data_type from information_schema.columns "
                             "where table_schema = 'raw' and table_name = 'shop__orders'"))
    assert columns["loyalty_tier"] == "VARCHAR"
    assert list(columns)[-1] == "loyalty_tier"
    optional_absent = [c.name for c in contract.entity(ORDERS).columns if c.name not in HEADER]
    nulls = rows(con, "select " + ", ".join(f'"{c}" is null' for c in optional_absent) + ", loyalty_tier "
                      "from raw.shop__orders")
    assert nulls == [(*[True] * len(optional_absent), "gold")]


def test_naive_timestamps_are_read_in_the_source_timezone(con, write, load) -> None:
    write("shop/orders/d1.csv", csv_text(HEADER, [
        ["naive", "2026-07-01 12:00:00", "1", ""],
        ["offset", "2026-07-01T12:00:00-04:00", "1", ""],
        ["date_only", "2026-07-01", "1", ""],
    ]))

    load(ORDERS, source_timezone="Europe/Paris")

    got = dict(rows(con, "select order_id, ordered_at from raw.shop__orders"))
    paris = ZoneInfo("Europe/Paris")
    assert got["naive"] == datetime(2026, 7, 1, 12, tzinfo=paris)
    assert got["offset"] == datetime(2026, 7, 1, 16, tzinfo=UTC)
    assert got["date_only"] == datetime(2026, 7, 1, tzinfo=paris)


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_bad_rows_are_quarantined_with_reason_and_physical_line(con, write, load, newline: str) -> None:
    text = (
        "order_id,ordered_at,total_amount,email\n"
        'o1,2026-03-01T10:00:00Z,1.00,"multi\nline\naddress"\n'  # lines 2-4
        "o2,2026-13-45,1.00,a\n"  # 5
        "o3,2026-03-01T10:00:00Z,abc,a\n"  # 6
        ",2026-03-01T10:00:00Z,1.00,a\n"  # 7
        "o4,2026-03-01T10:00:00Z,1.00\n"  # 8
        "o5,2026-03-01T10:00:00Z,1.00,a,b\n"  # 9
        "\n"  # 10 blank, not a record
        "o6,2026-02-30T10:00:00Z,1.00,a\n"  # 11
        'o7,2026-03-01T10:00:00Z,1.00,"x"y\n'  # 12
        "o8,2026-03-01T10:00:00Z,1.234.5,a\n"  # 13
        "o9,2026-03-01T10:00:00Z,2.00,a\n"  # 14
    )
    text = text.replace("\n", newline)
    write("shop/orders/d1.csv", text)

    result = load(ORDERS)

    assert quarantine(con, "shop/orders/d1.csv") == {
        5: "ordered_at: unparseable timestamp '2026-13-45'",
        6: "total_amount: not a number 'abc'",
        7: "order_id: required value missing",
        8: "wrong column count: 3 fields, header has 4",
        9: "wrong column count: more than 4 fields, header has 4",
        11: "ordered_at: unparseable timestamp '2026-02-30T10:00:00Z'",
        12: "malformed quoting: unterminated quote or text after a closing quote",
        13: "total_amount: not a number '1.234.5'",
    }
    assert rows(con, "select order_id, _line from raw.shop__orders order by _line") == [("o1", 2), ("o9", 14)]
    [file] = result.files
    assert file.rows_in == csv_record_count(text) == file.rows_loaded + file.rows_quarantined
    assert rows(con, "select rows_in, rows_loaded, rows_quarantined from raw._deliveries") == [
        (file.rows_in, 2, 8)
    ]


def test_quarantine_record_keeps_the_row_and_its_metadata(con, write, load) -> None:
    write("shop/orders/d1.csv", csv_text(HEADER, [["o1", "soon", "1", "a@x"]]))

    load(ORDERS, load_id="run-7")

    [(source, entity, record, load_id, delivery_hash)] = rows(
        con, "select source, entity, record, load_id, delivery_hash from raw.quarantine")
    assert (source, entity, load_id) == ("shop", "orders", "run-7")
    assert record == '{"order_id":"o1","ordered_at":"soon","total_amount":"1","email":"a@x"}'
    assert delivery_hash == rows(con, "select delivery_hash from raw._deliveries")[0][0]


def test_file_missing_a_required_column_is_quarantined_whole(con, write, load) -> None:
    text = csv_text(["order_id", "email"], [["o1", "a"], ["o2", "b"], ["o3", "c", "extra"]])
    write("shop/orders/d1.csv", text)

    [file] = load(ORDERS).files

    reasons = quarantine(con, "shop/orders/d1.csv")
    assert sorted(reasons) == [2, 3, 4]
    expected = "file is missing required column(s): ordered_at, total_amount"
    assert all(r.startswith(expected) for r in reasons.values())
    assert (file.rows_in, file.rows_loaded, file.rows_quarantined) == (csv_record_count(text), 0, 3)
    assert rows(con, "select count(*) from raw.shop__orders") == [(0,)]


@pytest.mark.parametrize("content", [b"", b"order_id,ordered_at,total_amount\n", b"order_id,ordered_at,total_amount"])
def test_empty_and_header_only_files_load_zero_rows(con, write, load, content: bytes) -> None:
    write("shop/orders/d1.csv", content)

    [file] = load(ORDERS).files

    assert (file.status, file.rows_in, file.rows_loaded, file.rows_quarantined) == ("loaded", 0, 0, 0)
    assert rows(con, "select file, rows_in from raw._deliveries") == [("shop/orders/d1.csv", 0)]
    assert rows(con, "select count(*) from raw.quarantine") == [(0,)]


def test_header_only_file_missing_required_columns_is_quarantined_whole(con, write, load) -> None:
    write("shop/orders/d1.csv", b"order_id,total_amount\n")

    [file] = load(ORDERS).files

    assert (file.rows_in, file.rows_loaded, file.rows_quarantined) == (1, 0, 1)
    assert quarantine(con, "shop/orders/d1.csv") == {None: "file is missing required column(s): ordered_at"}


@pytest.mark.parametrize(("content", "reason_part"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "binary content, looks like a PNG image"),
    (b"<!DOCTYPE html>\n<html><body>Not found</body></html>\n", "looks like HTML/XML"),
    (b"\x00\x01\x02garbage,\x00\n", "binary content (NUL bytes)"),
])
def test_a_file_that_is_not_csv_is_quarantined_whole_and_others_still_load(
    con, write, load, content: bytes, reason_part: str
) -> None:
    write("shop/orders/a_bad.csv", content)
    write("shop/orders/b_good.csv", csv_text(HEADER, [["o1", "2026-03-01", "1", ""]]))

    files = {f.file: f for f in load(ORDERS).files}

    [(line, reason)] = rows(con, "select line, reason from raw.quarantine")
    assert line is None and reason.startswith("not a CSV file: ") and reason_part in reason
    bad = files["shop/orders/a_bad.csv"]
    assert (bad.rows_in, bad.rows_loaded, bad.rows_quarantined) == (1, 0, 1)
    assert files["shop/orders/b_good.csv"].rows_loaded == 1
    assert rows(con, "select count(*) from raw._deliveries") == [(2,)]


def test_utf8_bom_is_tolerated(con, write, load) -> None:
    write("shop/orders/d1.csv", b"\xef\xbb\xbf" + csv_text(HEADER, [["o1", "2026-03-01", "1", "é"]]).encode())

    [file] = load(ORDERS).files

    assert file.encoding == "utf-8-sig"
    assert rows(con, "select order_id, email from raw.shop__orders") == [("o1", "é")]


@pytest.mark.parametrize(("encoding", "reported"), [
    ("utf-16", "utf-16"), ("utf-16-le", "utf-16-le"), ("cp1252", "windows-1252"),
])
def test_utf16_and_latin1_files_are_transcoded(con, write, load, encoding: str, reported: str) -> None:
    text = csv_text(HEADER, [["o1", "2026-03-01", "1", "José Müller"], ["o2", "2026-03-01", "2", "x"]])
    write("shop/orders/d1.csv", text.encode(encoding))

    [file] = load(ORDERS).files

    assert file.encoding == reported
    assert rows(con, "select email from raw.shop__orders order by _line") == [("José Müller",), ("x",)]


def test_invalid_utf8_rows_in_a_utf8_file_are_quarantined(con, write, load) -> None:
    text = csv_text(HEADER, [["o1", "2026-03-01", "1", "Zoë"], ["o2", "2026-03-01", "1", "@@"],
                             ["o3", "2026-03-01", "1", "ok"]])
    write("shop/orders/d1.csv", text.encode().replace(b"@@", b"caf\xe9"))

    [file] = load(ORDERS).files

    assert quarantine(con, "shop/orders/d1.csv") == {3: "invalid UTF-8 encoding"}
    assert rows(con, "select order_id from raw.shop__orders order by _line") == [("o1",), ("o3",)]
    assert (file.rows_in, file.rows_loaded, file.rows_quarantined) == (3, 2, 1)


def test_columns_match_the_contract_case_insensitively(con, write, load) -> None:
    write("sms/events/d1.csv", "messagesid,TO,MessageStatus,timestamp\nSM1,+1555,delivered,2026-03-01\n")

    load("sms/events")

    assert rows(con, 'select "MessageSid", "To" from raw.sms__events') == [("SM1", "+1555")]


ISO_FORMS = ["2026-03-01T14:05:00+0100", "2026-03-01T14:05:00+01", "2026-03-01T14:05:00.123456Z",
             "2026-03-01T14:05Z", "2026-03-01 14:05:00-05:30", "2026-03-01T14:05:00", "2026-03-01"]
NOT_ISO = ["01/03/2026 14:05", "2026-03-01T14:05:00 PST", "2026-3-1", "1772373900", "2026-03-01T25:00:00Z"]


def test_timestamp_forms(con, write, load) -> None:
    values = ISO_FORMS + NOT_ISO
    write("shop/orders/d1.csv", csv_text(HEADER, [[f"o{i}", v, "1", ""] for i, v in enumerate(values)]))

    load(ORDERS, source_timezone="America/New_York")

    got = dict(rows(con, "select order_id, ordered_at from raw.shop__orders"))
    new_york = ZoneInfo("America/New_York")
    expected = {}
    for i, value in enumerate(ISO_FORMS):
        parsed = datetime.fromisoformat(value)
        expected[f"o{i}"] = parsed if parsed.tzinfo else parsed.replace(tzinfo=new_york)
    assert got == expected
    reasons = quarantine(con, "shop/orders/d1.csv")
    assert sorted(reasons.values()) == sorted(f"ordered_at: unparseable timestamp '{v}'" for v in NOT_ISO)

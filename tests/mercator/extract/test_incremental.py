"""Deliveries: unchanged files are skipped, changed files replace their rows, reruns are idempotent."""

import hashlib
import os
import time

from mercator import contract
from mercator.extract import summarize

from .conftest import csv_text, rows

HEADER = ["order_id", "ordered_at", "total_amount"]
RAW_STATE = [
    "select * from raw.shop__orders order by _file, _line",
    "select * from raw.quarantine order by file, line",
    "select * from raw._deliveries order by file, loaded_at",
]


def state(con) -> list[list[tuple]]:
    return [rows(con, sql) for sql in RAW_STATE]


def test_every_raw_table_exists_without_files(con) -> None:
    sql = "select table_name from information_schema.tables where table_schema = 'raw'"
    tables = {t for (t,) in rows(con, sql)}
    assert tables == {e.raw_table for e in contract.ENTITIES} | {"quarantine", "_deliveries"}


def test_loading_twice_skips_unchanged_deliveries_and_changes_nothing(con, write, load) -> None:
    write("shop/orders/a.csv", csv_text(HEADER, [["o1", "2026-03-01", "1"], ["o2", "bad", "2"]]))
    write("shop/orders/b.jsonl", '{"order_id": "o3", "ordered_at": "2026-03-01", "total_amount": 3}\n')
    load("shop/orders", load_id="L1")
    before = state(con)

    second = load("shop/orders", load_id="L2")

    assert [f.status for f in second.files] == ["skipped", "skipped"]
    assert state(con) == before
    assert summarize([second])["files_skipped"] == 2


def test_changed_delivery_replaces_only_that_files_rows(con, write, load) -> None:
    write("shop/orders/a.csv", csv_text(HEADER, [["o1", "2026-03-01", "1"], ["o2", "bad", "2"]]))
    write("shop/orders/b.csv", csv_text(HEADER, [["o9", "2026-03-01", "9"]]))
    load("shop/orders", load_id="L1")
    write("shop/orders/a.csv", csv_text(HEADER, [["o1", "2026-03-01", "10"], ["o2", "2026-03-02", "2"]]))

    result = load("shop/orders", load_id="L2")

    assert [(f.file, f.status) for f in result.files] == [
        ("shop/orders/a.csv", "loaded"), ("shop/orders/b.csv", "skipped")
    ]
    sql = "select order_id, total_amount::varchar, _load_id from raw.shop__orders order by order_id"
    assert rows(con, sql) == [
        ("o1", "10.00", "L2"), ("o2", "2.00", "L2"), ("o9", "9.00", "L1")
    ]
    assert rows(con, "select count(*) from raw.quarantine") == [(0,)]
    assert rows(con, "select load_id, rows_loaded, rows_quarantined from raw._deliveries "
                     "where file = 'shop/orders/a.csv' order by loaded_at") == [("L1", 1, 1), ("L2", 2, 0)]


def _age(path, seconds: int = 3600) -> int:
    """Set the file's modification time `seconds` back; returns it in ns."""
    mtime_ns = time.time_ns() - seconds * 1_000_000_000
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return mtime_ns


def _hash_calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = hashlib.file_digest

    def counting(file, digest):
        calls.append(file.name)
        return real(file, digest)

    monkeypatch.setattr(hashlib, "file_digest", counting)
    return calls


def test_a_file_with_its_recorded_size_and_time_is_not_read_again(con, write, load, monkeypatch) -> None:
    path = write("shop/orders/a.csv", csv_text(HEADER, [["o1", "2026-03-01", "1"]]))
    mtime_ns = _age(path)
    load("shop/orders", load_id="L1")
    calls = _hash_calls(monkeypatch)

    [file] = load("shop/orders", load_id="L2").files

    assert (file.status, calls) == ("skipped", [])
    assert rows(con, "select file_size, file_mtime_ns from raw._deliveries") == [(path.stat().st_size, mtime_ns)]


def test_a_recent_or_touched_file_is_hashed_and_its_time_recorded_once_trusted(con, write, load, monkeypatch) -> None:
    path = write("shop/orders/a.csv", csv_text(HEADER, [["o1", "2026-03-01", "1"]]))
    load("shop/orders", load_id="L1")
    assert rows(con, "select file_mtime_ns from raw._deliveries") == [(None,)]
    calls = _hash_calls(monkeypatch)
    mtime_ns = _age(path)

    statuses = [load("shop/orders", load_id=f"L{n}").files[0].status for n in (2, 3)]

    assert (statuses, len(calls)) == (["skipped", "skipped"], 1)
    assert rows(con, "select load_id, file_mtime_ns from raw._deliveries") == [("L1", mtime_ns)]


def test_same_size_new_content_with_a_new_time_is_loaded(con, write, load) -> None:
    path = write("shop/orders/a.csv", csv_text(HEADER, [["o1", "2026-03-01", "1"]]))
    _age(path, 7200)
    load("shop/orders", load_id="L1")
    write("shop/orders/a.csv", csv_text(HEADER, [["o1", "2026-03-01", "2"]]))
    _age(path, 3600)

    [file] = load("shop/orders", load_id="L2").files

    assert file.status == "loaded"
    assert rows(con, "select total_amount::varchar from raw.shop__orders") == [("2.00",)]


def test_reverting_a_file_to_earlier_content_loads_it_again(con, write, load) -> None:
    first = csv_text(HEADER, [["o1", "2026-03-01", "1"]])
    write("shop/orders/a.csv", first)
    load("shop/orders", load_id="L1")
    write("shop/orders/a.csv", csv_text(HEADER, [["o1", "2026-03-01", "2"]]))
    load("shop/orders", load_id="L2")
    write("shop/orders/a.csv", first)

    [file] = load("shop/orders", load_id="L3").files

    assert file.status == "loaded"
    assert rows(con, "select total_amount::varchar, _load_id from raw.shop__orders") == [("1.00", "L3")]


def test_summary_totals_over_entities(con, write, load) -> None:
    write("shop/orders/a.csv", csv_text(HEADER, [["o1", "2026-03-01", "1"], ["o2", "bad", "2"]]))
    write("ads/spend/a.csv", "date,platform,campaign_id,spend\n2026-03-01,google_ads,c1,5\n")

    summary = summarize([load("shop/orders"), load("ads/spend"), load("web/events")])

    assert {k: summary[k] for k in ("files_loaded", "rows_in", "rows_loaded", "rows_quarantined")} == {
        "files_loaded": 2, "rows_in": 3, "rows_loaded": 2, "rows_quarantined": 1,
    }
    assert [e["entity"] for e in summary["entities"]] == ["shop/orders", "ads/spend", "web/events"]

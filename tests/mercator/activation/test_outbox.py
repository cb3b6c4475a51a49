"""Outbox files: content, diff against the ledger, idempotent reruns."""

from __future__ import annotations

import json

from mercator.activation import OutboxConfig, OutboxDestination
from mercator.activation.base import PAYLOAD_COLUMNS

from tests.mercator.activation.audience_fixtures import AUDIENCE, members, write_audience

DAY1, DAY2 = "scheduled__2026-03-01T00:00:00+00:00", "scheduled__2026-03-02T00:00:00+00:00"


def read(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_writes_only_members_with_email_and_no_other_personal_data(tmp_path, con):
    rows = members(5, without_email=(1, 3))
    write_audience(con, rows)
    outbox = OutboxDestination(OutboxConfig(directory=tmp_path / "outbox"))

    result = outbox.sync(con, AUDIENCE, DAY1)

    path = tmp_path / "outbox" / AUDIENCE / "2026-03-01.jsonl"
    assert result.location == str(path)
    written = read(path)
    assert [r["customer_key"] for r in written] == [r[0] for r in rows if r[1]]
    assert all(r["email"] for r in written)
    assert all(set(r) == set(PAYLOAD_COLUMNS) for r in written)
    assert not any("recency_days" in line or "monetary" in line for line in path.read_text().splitlines())
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind


def test_next_run_sends_only_new_or_changed_members(tmp_path, con):
    write_audience(con, members(4))
    outbox = OutboxDestination(OutboxConfig(directory=tmp_path / "outbox"))
    outbox.sync(con, AUDIENCE, DAY1)
    changed = members(5)
    changed[0] = (changed[0][0], "new-address@example.com", *changed[0][2:])
    write_audience(con, changed)

    result = outbox.sync(con, AUDIENCE, DAY2)

    written = read(tmp_path / "outbox" / AUDIENCE / "2026-03-02.jsonl")
    assert sorted(r["customer_key"] for r in written) == [changed[0][0], changed[4][0]]
    assert (result.sent, result.unchanged) == (2, 3)
    assert len(read(tmp_path / "outbox" / AUDIENCE / "2026-03-01.jsonl")) == 4


def test_rerun_of_a_run_rewrites_an_identical_file_and_keeps_one_ledger_entry(tmp_path, con):
    write_audience(con, members(7, without_email=(0,)))
    outbox = OutboxDestination(OutboxConfig(directory=tmp_path / "outbox"))
    path = tmp_path / "outbox" / AUDIENCE / "2026-03-01.jsonl"

    outbox.sync(con, AUDIENCE, DAY1)
    first = path.read_bytes()
    outbox.sync(con, AUDIENCE, DAY1)

    assert path.read_bytes() == first
    count, distinct = con.execute(
        "select count(*), count(distinct customer_key) from activation.sync_log where run_id = ?", [DAY1]
    ).fetchone()
    assert count == distinct == 6


def test_second_run_on_the_same_day_keeps_the_first_runs_rows(tmp_path, con):
    write_audience(con, members(3))
    outbox = OutboxDestination(OutboxConfig(directory=tmp_path / "outbox"))
    outbox.sync(con, AUDIENCE, "manual__2026-03-01T08:00:00+00:00")
    write_audience(con, members(4))

    outbox.sync(con, AUDIENCE, "manual__2026-03-01T12:00:00+00:00")

    assert len(read(tmp_path / "outbox" / AUDIENCE / "2026-03-01.jsonl")) == 4


def test_missing_audience_table_is_skipped(tmp_path, con):
    result = OutboxDestination(OutboxConfig(directory=tmp_path / "outbox")).sync(con, AUDIENCE, DAY1)

    assert result.sent == 0 and result.reason.startswith("skipped")
    assert not (tmp_path / "outbox").exists()

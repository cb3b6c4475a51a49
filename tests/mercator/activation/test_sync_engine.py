"""The sync engine on a small warehouse with the outbox: send-time consent, accounting, holdouts, mirror, dry run."""

from __future__ import annotations

import json

import duckdb
import pytest
from mercator.activation.destination import ConfigError
from mercator.activation.holdout import ControlGroup, holdout_bucket, holdout_bucket_sql
from mercator.activation.runner import activate_all, discover

from tests.mercator.activation.engine_fixtures import (
    CUSTOMERS,
    build_warehouse,
    customer,
    manifest,
    opener,
    write_audience,
)

EMAIL = {"channel": "email", "destinations": [{"type": "outbox"}], "holdout_share": 0.25,
         "fields": {"email": "email", "first_name": "first_name"}}
DAY1, DAY2 = "scheduled__2026-03-01T00:00:00+00:00", "scheduled__2026-03-02T00:00:00+00:00"


@pytest.fixture
def warehouse(tmp_path):
    return build_warehouse(tmp_path / "w.duckdb")


def run(tmp_path, warehouse, activation, run_id=DAY1, dry_run=False):
    return activate_all(opener(warehouse), manifest(tmp_path / "manifest.json", activation), run_id,
                        tmp_path / "reports", tmp_path / "no_dbt_project", tmp_path, dry_run)


def sent_lines(tmp_path) -> list[dict]:
    return [json.loads(line) for f in sorted((tmp_path / "reports" / "outbox").rglob("*.jsonl"))
            if "-removed-" not in f.name for line in f.read_text().splitlines()]


def rows(warehouse, sql):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(autouse=True)
def no_caps(monkeypatch):
    monkeypatch.setattr("mercator.activation.runner.frequency_caps", lambda _: {"sms": 7, "email": 3})


def test_holdout_bucket_is_identical_in_sql_and_python():
    keys = [f"customer-{i}" for i in range(2_000)]
    with duckdb.connect() as con:
        con.execute("create table k as select unnest(?) as customer_key", [keys])
        sql = dict(con.execute(f"select customer_key, {holdout_bucket_sql('customer_key', 'salt')} from k").fetchall())
    assert all(sql[key] == holdout_bucket(key, "salt") for key in keys)
    held = sum(holdout_bucket(key, "salt") < 0.1 for key in keys) / len(keys)
    assert 0.08 < held < 0.12
    assert holdout_bucket("customer-1", "salt") != holdout_bucket("customer-1", "other-salt")


def test_an_audience_that_selects_everyone_still_sends_only_to_the_consented_and_unsuppressed(tmp_path, warehouse):
    [summary] = run(tmp_path, warehouse, EMAIL)
    sent = {line["customer_key"] for line in sent_lines(tmp_path)}
    people = {c[0]: c for c in map(customer, range(CUSTOMERS))}
    eligible = {k for k, c in people.items() if c[4] == "granted" and c[1] and "@" in c[1] and k != "k10"}
    held_out = {k for (k,) in rows(warehouse, "select customer_key from activation.assignments"
                                              " where assignment = 'holdout'")}
    assert sent == eligible - held_out and held_out and held_out <= eligible
    assert summary["suppressed"] == 1 and summary["held_out"] == len(held_out)
    assert summary["unconsented"] == sum(c[4] != "granted" for c in people.values())
    parts = ("sent", "unchanged", "held_out", "capped", "unconsented", "suppressed", "invalid", "held_back")
    assert summary["members"] == CUSTOMERS == sum(summary[p] for p in parts)
    assert summary["delivered"] == summary["sent"] == len(sent)
    [(status, members, delivered)] = rows(warehouse, "select status, members, delivered from activation.sync_runs")
    assert (status, members, delivered) == ("succeeded", CUSTOMERS, len(sent))
    assert all(set(line) == {"customer_key", "email", "first_name", "audience"} for line in sent_lines(tmp_path))


def test_state_holds_hashes_and_keys_never_an_address(tmp_path, warehouse):
    run(tmp_path, warehouse, EMAIL)
    dump = json.dumps([rows(warehouse, f"select * from activation.{t}") for t in
                       ("sync_state", "sync_runs", "assignments", "messages", "suppressions")], default=str)
    assert "@" not in dump and "First" not in dump and "+1555" not in dump


def test_a_rerun_sends_nothing_and_a_change_is_sent_once(tmp_path, warehouse):
    first = run(tmp_path, warehouse, EMAIL)[0]
    again = run(tmp_path, warehouse, EMAIL)[0]
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.audience_everyone set first_name = 'Renamed' where customer_key = 'k02'")
    next_day = run(tmp_path, warehouse, EMAIL, DAY2)[0]
    assert (again["sent"], again["unchanged"]) == (0, first["sent"])
    lines = sent_lines(tmp_path)
    changed = 1 if any(line["customer_key"] == "k02" for line in lines[: first["sent"]]) else 0
    assert next_day["sent"] == changed and len(lines) == first["sent"] + changed


def test_mirror_removes_members_who_left_or_lost_consent(tmp_path, warehouse):
    mirror = {**EMAIL, "mode": "mirror", "holdout_share": 0.0}
    first = run(tmp_path, warehouse, mirror)[0]
    write_audience(warehouse, [f"k{i:02d}" for i in range(20)])
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.dim_customers set email_consent = 'revoked' where customer_key = 'k00'")
    second = run(tmp_path, warehouse, mirror, DAY2)[0]
    left = {f"k{i:02d}" for i in range(20, CUSTOMERS) if i % 2 == 0 and i not in (10,)} | {"k00"}
    removed = {line["customer_key"] for f in (tmp_path / "reports" / "outbox").rglob("*-removed-*.jsonl")
               for line in map(json.loads, f.read_text().splitlines())}
    assert first["removed"] == 0 and second["removed"] == len(left) and removed == left


def test_dry_run_counts_what_a_run_would_do_and_sends_nothing(tmp_path, warehouse):
    dry = run(tmp_path, warehouse, EMAIL, dry_run=True)[0]
    assert not (tmp_path / "reports" / "outbox").exists()
    assert rows(warehouse, "select status, dry_run from activation.sync_runs") == [("dry_run", True)]
    real = run(tmp_path, warehouse, EMAIL, DAY2)[0]
    assert {k: v for k, v in dry.items() if k != "status"} == {
        k: v for k, v in real.items() if k not in ("status", "delivered", "rejected", "opted_out", "unknown",
                                                   "failed", "reconciled", "erased")} | {"removed": 0}


def test_duplicate_keys_in_an_audience_are_invalid_not_sent_twice(tmp_path, warehouse):
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into marts.audience_everyone select * from marts.audience_everyone"
                    " where customer_key = 'k02'")
    summary = run(tmp_path, warehouse, {**EMAIL, "holdout_share": 0.0})[0]
    assert sum(line["customer_key"] == "k02" for line in sent_lines(tmp_path)) == 1
    assert summary["members"] == CUSTOMERS + 1 and summary["invalid"] == 1  # k05, k07 lack consent first


@pytest.mark.parametrize(
    ("activation", "message"),
    [
        ({**EMAIL, "destinations": [{"type": "carrier_pigeon"}]}, "destinations[0].type: unknown destination"),
        ({k: v for k, v in EMAIL.items() if k != "channel"}, "meta.activation.channel"),
        ({**EMAIL, "fields": {"email": "email", "first_name": "nickname"}},
         "fields.first_name names column 'nickname'"),
        ({**EMAIL, "mode": "replace"}, "meta.activation.mode"),
        ({**EMAIL, "holdout_share": 1.5}, "meta.activation.holdout_share"),
        ({**EMAIL, "destinations": [{"type": "outbox", "options": {"colour": "red"}}]}, "unknown option"),
    ],
)
def test_a_wrong_config_fails_before_anything_is_sent_naming_audience_and_key(tmp_path, warehouse, activation, message):
    with pytest.raises(ConfigError, match="audience_everyone|outbox") as error:
        discover(opener(warehouse), manifest(tmp_path / "manifest.json", activation))
    assert message in str(error.value)
    assert not (tmp_path / "reports").exists()


def test_run_summary_lists_each_sync_and_why_a_destination_was_skipped(tmp_path, warehouse, monkeypatch):
    from mercator.summary import activation_lines

    monkeypatch.delenv("AIRFLOW_CONN_MERCATOR_TWILIO", raising=False)
    sms = {"channel": "sms", "fields": {"phone": "phone", "first_name": "first_name"},
           "destinations": [{"type": "twilio_sms", "connection": "mercator_twilio", "options": {"template": "Hi"}}]}
    run(tmp_path, warehouse, sms)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        text = "\n".join(activation_lines(con))
    assert "audience_everyone -> twilio_sms:mercator_twilio: skipped (no Airflow connection 'mercator_twilio'" in text
    assert "audience_everyone -> outbox: succeeded; members 40" in text


def test_assignments_are_recorded_when_new_or_changed_not_again_every_run(tmp_path, warehouse):
    run(tmp_path, warehouse, EMAIL)
    first = rows(warehouse, "select customer_key, assignment, run_id from activation.assignments order by 1")
    run(tmp_path, warehouse, EMAIL, DAY2)
    run(tmp_path, warehouse, EMAIL, DAY2)  # a rerun of the same run id
    assert rows(warehouse, "select customer_key, assignment, run_id from activation.assignments order by 1") == first
    assert {run_id for _, _, run_id in first} == {DAY1} and {a for _, a, _ in first} == {"holdout", "treatment"}
    day3 = "scheduled__2026-03-03T00:00:00+00:00"
    run(tmp_path, warehouse, {**EMAIL, "holdout_share": 0.0}, day3)
    latest = dict(rows(warehouse, "select customer_key, arg_max(assignment, assigned_at) from activation.assignments"
                                  " group by 1"))
    assert set(latest.values()) == {"treatment"} and set(latest) == {key for key, _, _ in first}
    changed = rows(warehouse, f"select customer_key from activation.assignments where run_id = '{day3}'")
    assert sorted(k for (k,) in changed) == sorted(k for k, a, _ in first if a == "holdout")


def test_the_global_control_group_is_sent_nothing_recorded_and_drawn_by_its_own_salt(tmp_path, warehouse, monkeypatch):
    control = ControlGroup(share=0.3, salt="control-v1")
    monkeypatch.setattr("mercator.activation.runner.control_group", lambda _: control)
    [summary] = run(tmp_path, warehouse, EMAIL)
    sent = {line["customer_key"] for line in sent_lines(tmp_path)}
    assigned = dict(rows(warehouse, "select customer_key, assignment from activation.assignments"))
    in_control = {k for k, a in assigned.items() if a == "control"}
    assert in_control == {k for k in assigned if holdout_bucket(k, control.salt) < control.share}
    assert in_control and not in_control & sent
    assert summary["control_group"] == len(in_control)
    held_out = {k for k, a in assigned.items() if a == "holdout"}
    assert held_out == {k for k in assigned.keys() - in_control if holdout_bucket(k, "audience_everyone") < 0.25}
    parts = ("sent", "unchanged", "held_out", "control_group", "capped", "unconsented", "suppressed", "invalid",
             "held_back")
    assert summary["members"] == CUSTOMERS == sum(summary[p] for p in parts)
    [(recorded,)] = rows(warehouse, "select control_group from activation.sync_runs")
    assert recorded == len(in_control)

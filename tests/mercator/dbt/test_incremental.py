"""Daily incremental builds: the event-level models (staging events, web and app sessions, identity event
links and observations) read only what the new deliveries touch, touchpoints and attribution only the
journeys they change, and a sequence of daily builds, the same sequence then rebuilt with `--full-refresh`,
the same sequence with the second day's build stopped right after int_journey_members (a crash), and one
full build of all the deliveries give the same tables.

One small demo is cut into three daily deliveries per file (rows in file order, so every day also brings
late events of earlier dates), and the third day redelivers changed web and email events of the first.
A visitor with a journey of its own on the first days signs in as a known customer on the last.
Customer keys depend on history by design (a merged customer keeps its oldest key), so tables are
compared with each customer key replaced by the customer's smallest identifier; the key registry and
merge log, history themselves, are left out.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from mercator import pipeline
from mercator.config import Settings
from mercator.contract import ENTITIES
from mercator.transform import run_dbt

from tests.mercator.dbt.identity_fixtures import copy_project

pytestmark = pytest.mark.dag_runs(1)

CUSTOMERS = 300
DAYS = 3
SCHEMAS = ("staging", "intermediate", "marts")
HISTORY = {"int_identity_key_registry", "customer_key_merges", "int_journey_members"}
RUN_TIME_COLUMNS = {"key_created_at", "assigned_at", "loaded_at", "members_assigned_at"}
KEY_COLUMNS = {"customer_key", "journey_key"}
INCREMENTAL = ("stg_web__events", "stg_email__events", "int_web_sessions", "int_identity_event_links",
               "int_identity_observations", "int_touchpoints", "int_touchpoint_channels", "int_journey_members",
               "int_customer_touchpoints", "int_attribution_path_touches", "int_attribution_journeys",
               "int_attribution_rule_credits")
LINKED_LATER = "visitor-linked-later"
EARLIER_JOURNEYS = "journeys.json"  # every touchpoint's journey before the last day's build
BUILD = ("build", "--exclude", pipeline.SCORED, "--exclude-resource-type", "test",
         "--exclude-resource-type", "unit_test")
# A build that stops once int_journey_members is written, before the models that rewrite its journeys.
UP_TO_MEMBERS = (*BUILD, "--select", "+int_journey_members")


def _split(demo: Path, days: Path) -> None:
    """Each delivery file of `demo` as DAYS files, one per day directory; day 3 also redelivers day 1's
    web and email events with a changed campaign (a later delivery wins). A new visitor comes with
    anonymous events on day 1 and signs in as a known customer on the last day."""
    for file in sorted(demo.glob("*/*/*.csv")):
        with file.open(newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        for day in range(DAYS):
            part = rows[day * len(rows) // DAYS:(day + 1) * len(rows) // DAYS]
            _write(days / f"day{day + 1}" / file.relative_to(demo), header, part)
            if day == 0 and file.parent.name == "events" and file.parts[-3] in ("web", "email"):
                column = header.index("utm_campaign" if "utm_campaign" in header else "campaign")
                changed = [[*row[:column], "redelivered", *row[column + 1:]] for row in part[::2]]
                target = days / f"day{DAYS}" / file.relative_to(demo)
                _write(target.with_name(f"{target.stem}_redelivery.csv"), header, changed)
    _sign_in_later(sorted(demo.glob("web/events/*.csv")), days)


def _sign_in_later(web_events: list[Path], days: Path) -> None:
    """Visitor LINKED_LATER: two anonymous visits on day 1, a third on the last day signed in as the first
    user_id of `web_events`."""
    rows = [row for file in web_events for row in csv.DictReader(file.read_text(encoding="utf-8").splitlines())]
    user_id = next(row["user_id"] for row in rows if row["user_id"])
    visits = {1: ("2026-01-05T10:00:00Z", "2026-01-20T10:00:00Z"), DAYS: ("2026-02-01T10:00:00Z",)}
    for day, times in visits.items():
        events = [{**dict.fromkeys(rows[0], ""), "event_id": f"{LINKED_LATER}-{time}", "anonymous_id": LINKED_LATER,
                   "user_id": user_id if day == DAYS else "", "event_name": "page_view", "occurred_at": time,
                   "utm_source": "google", "utm_medium": "cpc", "utm_campaign": "linked_later"} for time in times]
        _write(days / f"day{day}" / "web" / "events" / "linked_later.csv", list(rows[0]),
               [list(event.values()) for event in events])


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])


def _settings(root: Path, name: str) -> Settings:
    project = copy_project(root / name)
    return replace(
        Settings.from_env(), landing_dir=root / name / "landing", warehouse=root / name / "wh.duckdb",
        reports_dir=root / name / "reports", models_dir=root / name / "models", dbt_project_dir=project,
        dbt_target_dir=project / "target",
    )


def _deliver(settings: Settings, day_dirs: list[Path], load_id: str) -> None:
    """Copy the days' files into the landing and extract every entity."""
    for day_dir in day_dirs:
        for file in day_dir.glob("*/*/*.csv"):
            target = settings.landing_dir / file.relative_to(day_dir).parent / f"{day_dir.name}_{file.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.read_bytes())
    pipeline.prepare_warehouse(settings)
    for entity in ENTITIES:
        pipeline.extract_entity(settings, entity.path, load_id)


def _canonical(con: duckdb.DuckDBPyConnection, db: str, table: str) -> str:
    """A query over `db`.`table` with run-time columns dropped and customer keys (also as journey keys,
    in path ids and as identification event ids) made canonical."""
    columns = [name for (name,) in con.execute(
        "select column_name from information_schema.columns where table_catalog = ? and table_name = ?"
        " order by ordinal_position", [db, table]).fetchall() if name not in RUN_TIME_COLUMNS]
    selected = [f"coalesce({c}_keys.canonical, t.{c}) as {c}" if c in KEY_COLUMNS else f"t.{c}" for c in columns]
    if "path_id" in columns and "journey_key" in columns:  # an open path's id holds its journey key
        selected[columns.index("path_id")] = (
            "replace(t.path_id, t.journey_key, coalesce(journey_key_keys.canonical, t.journey_key)) as path_id")
    if table == "customer_journey_events":  # an identification's event id is its customer's key
        selected[columns.index("event_id")] = ("case when t.event_name = 'identified'"
                                               " then coalesce(customer_key_keys.canonical, t.event_id)"
                                               " else t.event_id end as event_id")
    joins = "".join(f" left join {db}_keys as {c}_keys on t.{c} = {c}_keys.customer_key"
                    for c in columns if c in KEY_COLUMNS)
    schema = con.execute("select table_schema from information_schema.tables where table_catalog = ?"
                         " and table_name = ?", [db, table]).fetchone()[0]
    return f"select {', '.join(selected)} from {db}.{schema}.{table} as t{joins}"


def _differences(a: Path, b: Path) -> dict[str, int]:
    """Per table of SCHEMAS (bar HISTORY), the rows in one warehouse and not the other (multisets)."""
    con = duckdb.connect()
    differences = {}
    try:
        for db, path in (("a", a), ("b", b)):
            con.execute(f"attach '{path}' as {db} (read_only)")
            con.execute(
                f"create temp table {db}_keys as select customer_key,"
                " min(identifier_type || ':' || identifier_value) as canonical"
                f" from {db}.marts.customer_identities group by customer_key"
            )
        tables = [name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'a'"
            f" and table_schema in {SCHEMAS} order by 1").fetchall() if name not in HISTORY]
        for table in tables:
            left, right = _canonical(con, "a", table), _canonical(con, "b", table)
            count = con.execute(
                f"select count(*) from (({left} except all {right}) union all ({right} except all {left}))"
            ).fetchone()[0]
            differences[table] = count
    finally:
        con.close()
    return differences


def _rows(settings: Settings, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql, parameters).fetchall()


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Settings]:
    root = tmp_path_factory.mktemp("incremental")
    subprocess.run([sys.executable, "-m", "mercator.demo", "--customers", str(CUSTOMERS), "--seed", "11",
                    "--out", str(root / "demo")], check=True, capture_output=True)
    _split(root / "demo", root / "days")
    days = sorted((root / "days").iterdir())
    full, daily = _settings(root, "full"), _settings(root, "daily")
    _deliver(full, days, "all")
    run_dbt(full, *BUILD)
    interrupted = _settings(root, "interrupted")
    earlier: dict[str, str] = {}
    for day in days:
        _deliver(daily, [day], day.name)
        run_dbt(daily, *BUILD)
        if day == days[0]:  # the interrupted sequence starts from the first day's build
            shutil.copytree(daily.landing_dir, interrupted.landing_dir)
            interrupted.warehouse.write_bytes(daily.warehouse.read_bytes())
        if day != days[-1]:
            earlier = dict(_rows(daily, "select touchpoint_id, journey_key from intermediate.int_customer_touchpoints"))
    (daily.warehouse.parent / EARLIER_JOURNEYS).write_text(json.dumps(earlier))
    refreshed = _settings(root, "refreshed")
    refreshed.warehouse.write_bytes(daily.warehouse.read_bytes())
    run_dbt(refreshed, *BUILD, "--full-refresh")
    for day in days[1:]:
        _deliver(interrupted, [day], day.name)
        run_dbt(interrupted, *(UP_TO_MEMBERS if day == days[1] else BUILD))
    return {"full": full, "daily": daily, "refreshed": refreshed, "interrupted": interrupted}


def test_the_split_brings_late_events_and_a_redelivery(builds) -> None:
    daily = builds["daily"]
    loads = _rows(daily, "select count(distinct _load_id) from raw.web__events")
    assert loads == [(DAYS,)]
    redelivered = _rows(daily, "select count(*) from staging.stg_web__events where utm_campaign = 'redelivered'")
    assert redelivered[0][0] > 0
    late = _rows(daily, "select count(*) from raw.web__events where _load_id = 'day3' and occurred_at <"
                        " (select max(occurred_at) from raw.web__events where _load_id = 'day1')")
    assert late[0][0] > 0


def test_event_models_are_incremental(builds) -> None:
    nodes = json.loads((builds["daily"].dbt_target_dir / "manifest.json").read_text())["nodes"]
    materialized = {node["name"]: node["config"]["materialized"] for node in nodes.values()
                    if node["resource_type"] == "model"}
    assert {name: materialized[name] for name in INCREMENTAL} == dict.fromkeys(INCREMENTAL, "incremental")


def test_a_visitor_linked_later_leaves_no_rows_in_its_old_journey(builds) -> None:
    """LINKED_LATER and the customer it signs in as have two journeys before the last day and one after
    (an anonymous visitor is a customer key of its own, merged on sign-in): the journey that vanished
    is rewritten to nothing in every table keyed by journey."""
    daily = builds["daily"]
    earlier = json.loads((daily.warehouse.parent / EARLIER_JOURNEYS).read_text())
    final = dict(_rows(daily, "select touchpoint_id, journey_key from intermediate.int_customer_touchpoints"))
    (joined,) = {final[touchpoint] for touchpoint in final if touchpoint.startswith(f"web:{LINKED_LATER}#")}
    before = {earlier[touchpoint] for touchpoint, journey in final.items()
              if journey == joined and touchpoint in earlier}
    assert len(before) == 2
    (vanished,) = before - {joined}
    for table in ("int_customer_touchpoints", "int_attribution_path_touches", "int_attribution_journeys",
                  "int_attribution_rule_credits"):
        assert _rows(daily, f"select count(*) from intermediate.{table} where journey_key = ?", [vanished]) == [(0,)]


def test_daily_builds_equal_one_full_build(builds) -> None:
    differences = _differences(builds["full"].warehouse, builds["daily"].warehouse)
    assert len(differences) > 45
    assert {table: n for table, n in differences.items() if n} == {}


def test_a_build_stopped_after_the_journey_members_is_caught_up_the_next_day(builds) -> None:
    """The second day's build stops once int_journey_members holds that day's journeys: the third day's
    build rewrites the journeys changed on both days (each model from its own watermark), so the tables
    equal a full build."""
    stopped = _rows(builds["interrupted"], "select count(distinct assigned_at) from intermediate.int_journey_members")
    assert stopped == [(DAYS,)]
    differences = _differences(builds["full"].warehouse, builds["interrupted"].warehouse)
    assert {table: n for table, n in differences.items() if n} == {}


def test_full_refresh_equals_the_daily_builds(builds) -> None:
    differences = _differences(builds["daily"].warehouse, builds["refreshed"].warehouse)
    assert {table: n for table, n in differences.items() if n} == {}

"""Journeys over a simulated month of daily runs: entries, exits, re-entry after a cooldown, waits,
splits, holdouts, consent, and a customer in three journeys never messaged more often than the cap.

The warehouse holds the marts the journeys read (dim_customers, fct_orders, customer_journey_events,
customer_rfm for the as-of date); each day adds the data that "arrived" that day, then every journey
is evaluated with the run's clock at the end of the day. Messages go to the webhook stand-in (a
message destination, so the frequency cap applies across journeys).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import duckdb
import pytest
from mercator.activation.holdout import ControlGroup, holdout_bucket
from mercator.activation.runner import known_types
from mercator.journeys.engine import JourneyRun, evaluate_all
from mercator.journeys.spec import load_journeys

from tests.standins.webhook_server import WebhookStandin

START = date(2026, 3, 1)
DAYS = 30
CAP_DAYS = 3
CONTROL = ControlGroup(0.05, "month-control-2")  # c13 and c21 in it, no scripted customer
SEND = {"channel": "webhook", "consent": "email_consent", "fields": {"email": "email"},
        "destinations": [{"type": "webhook", "connection": "journey_hook",
                          "options": {"triggers_message": True, "batch_size": 50}}]}


def _send(step_id: str, **extra) -> dict:
    return {"id": step_id, "send": SEND, **extra}


JOURNEYS = {
    "welcome": {"entry": {"event": "identified", "max_age_hours": 72}, "enrollment": "future",
                "holdout_share": 0.0, "steps": [_send("hello")]},
    "cart": {"entry": {"event": "begin_checkout", "max_age_hours": 48}, "enrollment": "current",
             "reentry": {"policy": "cooldown", "cooldown_days": 7}, "exit": {"purchased": True},
             "holdout_share": 0.0, "steps": [{"id": "wait_4h", "wait": {"hours": 4}}, _send("reminder")]},
    "winback": {"entry": {"segment": {"column": "churn_tier", "values": ["light", "severe"]}},
                "enrollment": "future", "reentry": {"policy": "cooldown", "cooldown_days": 5},
                "holdout_share": 0.3, "exit": {"purchased": True},
                "steps": [{"id": "by_tier", "split": {"when": "c.churn_tier = 'severe'", "then": "severe",
                                                      "else": "light"}},
                          _send("light", next="end"), _send("severe")]},
}


def day(n: int, hour: int = 0) -> datetime:
    return datetime.combine(START + timedelta(days=n), datetime.min.time()) + timedelta(hours=hour)


# the month's script: on day n these rows arrive (the data may describe earlier times: late data)
CUSTOMERS = [f"c{i:02d}" for i in range(40)]
ARRIVALS: dict[int, dict[str, list]] = {
    0: {"identified": [("c30", day(0, 9))], "tier": [("c11", "severe")]},
    1: {"identified": [("c31", day(1, 7))]},
    # c20 becomes known, starts a checkout and slips into a churn tier on the same day: three journeys
    2: {"identified": [("c20", day(2, 8))], "checkout": [("c20", "k20a", day(2, 9))], "tier": [("c20", "light")]},
    # c02's order (day 3, 23:00) arrives on time, its checkout (22:00) a day late: never reminded
    3: {"checkout": [("c01", "k01a", day(3, 10)), ("c06", "k06a", day(3, 10))], "order": [("c02", day(3, 23))]},
    4: {"checkout": [("c02", "k02a", day(3, 22))]},
    5: {"checkout": [("c03", "k03a", day(5, 22)), ("c04", "k04a", day(5, 22))]},
    # c03 buys while waiting: it exits before its reminder; c01 checks out again inside its cooldown
    6: {"order": [("c03", day(6, 1))], "checkout": [("c01", "k01b", day(6, 11))]},
    # c23 and c25 fall in winback's holdout, c13 in the global control group
    8: {"tier": [("c10", "light"), ("c12", "severe"), ("c23", "light"), ("c25", "severe"), ("c13", "light")]},
    10: {"tier": [("c11", None), ("c10", None)]},
    # re-entries: c01 after its 7-day cooldown, c11 back into a tier, c10 again inside its 5-day cooldown
    12: {"checkout": [("c01", "k01c", day(12, 9))], "tier": [("c10", "light")]},
    15: {"tier": [("c11", "severe"), ("c10", None)]},
    21: {"tier": [("c10", "light")]},
    # c07 has no email consent: entered, its message skipped for consent
    22: {"checkout": [("c07", "k07a", day(22, 9))]},
    # a stale checkout (three days old when it arrives): judged stale, never entered
    25: {"checkout": [("c08", "k08a", day(22, 9))]},
}


def build(path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.dim_customers (customer_key varchar, email varchar, phone varchar,
            first_name varchar, email_consent varchar, sms_consent varchar, push_consent varchar,
            churn_tier varchar)""")
        con.executemany("insert into marts.dim_customers values (?, ?, null, ?, ?, 'unknown', 'unknown', null)",
                        [(k, f"{k}@example.com", k.upper(), "unknown" if k == "c07" else "granted")
                         for k in CUSTOMERS])
        con.execute("create table marts.fct_orders (customer_key varchar, ordered_at timestamp)")
        con.execute("""create table marts.customer_journey_events (customer_key varchar, event_name varchar,
            event_id varchar, occurred_at timestamp)""")
        con.execute("create table marts.customer_rfm (as_of date)")


def arrive(con, n: int) -> None:
    con.execute("delete from marts.customer_rfm")
    con.execute("insert into marts.customer_rfm values (?)", [START + timedelta(days=n)])
    script = ARRIVALS.get(n, {})
    for key, at in script.get("identified", []):
        con.execute("insert into marts.customer_journey_events values (?, 'identified', ?, ?)", [key, key, at])
    for key, event_id, at in script.get("checkout", []):
        con.execute("insert into marts.customer_journey_events values (?, 'begin_checkout', ?, ?)",
                    [key, event_id, at])
    for key, at in script.get("order", []):
        con.execute("insert into marts.fct_orders values (?, ?)", [key, at])
    for key, tier in script.get("tier", []):
        con.execute("update marts.dim_customers set churn_tier = ? where customer_key = ?", [tier, key])


def shared(con):
    """The warehouse opener: one connection kept open (opening a DuckDB file 400 times costs ~10 s)."""

    @contextmanager
    def open_warehouse():
        yield con

    return open_warehouse


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    root = tmp_path_factory.mktemp("month")
    journeys_dir = root / "journeys"
    journeys_dir.mkdir()
    for name, body in JOURNEYS.items():
        (journeys_dir / f"{name}.yml").write_text(json.dumps({"name": name, **body}))
    journeys = load_journeys(journeys_dir, known_types())
    path = root / "w.duckdb"
    build(path)
    connection = duckdb.connect(str(path))
    open_warehouse = shared(connection)
    summaries, rerun_deliveries = {}, None
    with WebhookStandin() as hook, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_JOURNEY_HOOK", json.dumps({"conn_type": "http", "host": hook.url,
                                                               "password": hook.secret}))
        for n in range(DAYS):
            with open_warehouse() as con:
                arrive(con, n)
            run = JourneyRun(f"day-{n:02d}", root / "reports", root, {"email": CAP_DAYS}, CONTROL)
            summaries[n] = evaluate_all(open_warehouse, journeys, run)
            if n == 6:  # rerun the day under a new run id: nothing new is sent
                before = len(hook.members())
                evaluate_all(open_warehouse, journeys, JourneyRun("day-06-rerun", root / "reports", root,
                                                                  {"email": CAP_DAYS}, CONTROL))
                rerun_deliveries = len(hook.members()) - before
        delivered = hook.members()
    con = connection
    yield {"con": con, "delivered": delivered, "summaries": summaries, "rerun_deliveries": rerun_deliveries}
    con.close()


def _steps(con, journey: str, customer: str) -> list[tuple[str, str, str | None, str]]:
    """(step, action, reason, run_id) of one customer's state rows, by run."""
    return con.execute("""select step, action, reason, run_id from activation.journey_steps
        where journey = ? and customer_key = ? order by written_at, run_id""", [journey, customer]).fetchall()


def _sent_days(con, journey: str, customer: str) -> list[str]:
    return [run for _, action, _, run in _steps(con, journey, customer) if action == "sent"]


def _outcome(con, journey: str, entry_key: str) -> str:
    return con.execute("select outcome from activation.journey_entries where journey = ? and entry_key = ?",
                       [journey, entry_key]).fetchone()[0]


def _in_control(key: str) -> bool:
    return holdout_bucket(key, CONTROL.salt) < CONTROL.share


def test_scenario_customers_are_outside_the_control_group():
    """The script's customers are treated unless a test says otherwise (else the script proves nothing)."""
    scripted = {"c01", "c02", "c03", "c04", "c06", "c07", "c10", "c11", "c12", "c20", "c23", "c25", "c30", "c31"}
    assert not any(_in_control(k) for k in scripted) and _in_control("c13")
    assert all(holdout_bucket(k, "winback") < 0.3 for k in ("c23", "c25"))


def test_welcome_enrolls_only_customers_identified_after_the_first_run(month):
    con = month["con"]
    assert _outcome(con, "welcome", "c30") == "before enrollment"
    assert _sent_days(con, "welcome", "c31") == ["day-01"]


def test_cart_reminder_goes_after_the_wait_and_never_to_a_buyer(month):
    con = month["con"]
    assert _sent_days(con, "cart", "c06") == ["day-03"]  # 10:00 + 4 h is before the day's end
    assert {(action, run) for _, action, _, run in _steps(con, "cart", "c04")} == {
        ("entered", "day-05"), ("waiting", "day-05"), ("waited", "day-06"), ("sent", "day-06"), ("completed", "day-06")}
    # c03 bought while waiting, c02 had bought before its late checkout arrived: exits, no message
    for key in ("c03", "c02"):
        assert _sent_days(con, "cart", key) == []
        assert ("wait_4h", "exited", "purchased") in [s[:3] for s in _steps(con, "cart", key)]
    assert not {m["customer_key"] for m in month["delivered"]} & {"c02", "c03"}


def test_reentry_waits_for_the_cooldown(month):
    con = month["con"]
    assert _outcome(con, "cart", "k01b") == "cooldown"
    assert _outcome(con, "cart", "k01c") == "entered"
    assert _sent_days(con, "cart", "c01") == ["day-03", "day-12"]
    instances = con.execute("select count(*) from activation.journey_instances where journey = 'cart'"
                            " and customer_key = 'c01'").fetchone()[0]
    assert instances == 2


def test_segment_entries_are_transitions_with_a_cooldown(month):
    con = month["con"]
    assert _outcome(con, "winback", "c11@2026-03-01") == "before enrollment"  # in the tier before the journey
    assert con.execute("select count(*) from activation.journey_entries where journey = 'winback'"
                       " and customer_key = 'c11' and outcome = 'entered'").fetchone()[0] == 1  # re-entered day 15
    assert _outcome(con, "winback", "c10@2026-03-09") == "entered"
    assert _outcome(con, "winback", "c10@2026-03-13") == "cooldown"  # 4 days after its entry
    assert _outcome(con, "winback", "c10@2026-03-22") == "entered"


def test_the_split_sends_each_tier_its_own_message(month):
    con = month["con"]
    rows = con.execute("""select customer_key, step, action, reason from activation.journey_steps
        where journey = 'winback' and step in ('by_tier', 'light', 'severe')""").fetchall()
    tiers = {"c10": "light", "c11": "severe", "c12": "severe", "c20": "light"}
    for key, tier in tiers.items():
        mine = [r for r in rows if r[0] == key]
        assert all(step in ("by_tier", tier) for _, step, _, _ in mine), mine
        assert ("by_tier", "split", f"{'then' if tier == 'severe' else 'else'}: {tier}") in [r[1:] for r in mine]


def test_holdout_instances_are_skipped_and_never_messaged(month):
    con = month["con"]
    held = con.execute("""select i.customer_key, s.reason from activation.journey_instances as i
        join activation.journey_steps as s using (journey, instance_id)
        where i.journey = 'winback' and i.assignment = 'holdout' and s.action = 'skipped'""").fetchall()
    holdout = {k for k, in con.execute("select customer_key from activation.journey_instances"
                                       " where journey = 'winback' and assignment = 'holdout'").fetchall()}
    assert {k for k, _ in held} == holdout and all(reason == "holdout" for _, reason in held)
    recorded = {k for k, in con.execute("select customer_key from activation.assignments"
                                        " where audience = 'winback' and assignment = 'holdout'").fetchall()}
    assert recorded == holdout
    # assigned once, at entry, under the journey's name: the send steps' syncs record no assignment
    audiences = con.execute("select distinct audience from activation.assignments").fetchall()
    assert {a for (a,) in audiences} <= set(JOURNEYS)
    assert holdout == {"c23", "c25"}
    sent_to = {m["customer_key"] for m in month["delivered"]}
    assert not sent_to & holdout


def test_the_global_control_group_is_never_messaged(month):
    con = month["con"]
    assert con.execute("select assignment from activation.journey_instances where customer_key = 'c13'").fetchall() \
        == [("control",)]
    assert ("light", "skipped", "control group") in [s[:3] for s in _steps(con, "winback", "c13")]
    assert "c13" not in {m["customer_key"] for m in month["delivered"]}


def test_no_message_without_consent(month):
    con = month["con"]
    assert ("reminder", "skipped", "consent") in [s[:3] for s in _steps(con, "cart", "c07")]
    assert "c07" not in {m["customer_key"] for m in month["delivered"]}


def test_stale_entries_never_enter(month):
    assert _outcome(month["con"], "cart", "k08a") == "stale"


def test_a_customer_in_three_journeys_is_never_over_the_cap(month):
    con = month["con"]
    entered = {j for j, in con.execute("select journey from activation.journey_instances"
                                       " where customer_key = 'c20'").fetchall()}
    assert entered == {"welcome", "cart", "winback"}
    # journeys run in name order: the cart reminder goes first, the others meet the cap (or the holdout)
    assert _sent_days(con, "cart", "c20") == ["day-02"]
    winback = "holdout" if holdout_bucket("c20", "winback") < JOURNEYS["winback"]["holdout_share"] else "frequency cap"
    skipped = dict(con.execute("select journey, reason from activation.journey_steps where customer_key = 'c20'"
                               " and action = 'skipped'").fetchall())
    assert skipped == {"welcome": "frequency cap", "winback": winback}
    # the cap holds for everyone: two messages of one customer are at least CAP_DAYS apart
    for key, times in con.execute("select customer_key, list(sent_at order by sent_at) from activation.messages"
                                  " group by 1").fetchall():
        assert all((b - a) >= timedelta(days=CAP_DAYS) for a, b in zip(times, times[1:], strict=False)), key


def test_every_message_is_one_delivery_and_a_rerun_sends_nothing(month):
    con = month["con"]
    assert month["rerun_deliveries"] == 0
    sent_rows = con.execute("select count(*) from activation.journey_steps where action = 'sent'").fetchone()[0]
    assert sent_rows == len(month["delivered"]) == con.execute("select count(*) from activation.messages").fetchone()[0]
    instances = [m["journey_instance"] for m in month["delivered"]]
    assert len(instances) == len(set(instances))


def test_every_instance_has_its_entry_row_and_a_consistent_state(month):
    con = month["con"]
    missing = con.execute("""select count(*) from activation.journey_instances as i where not exists (
        select 1 from activation.journey_steps as s where s.instance_id = i.instance_id and s.action = 'entered')""")
    assert missing.fetchone()[0] == 0
    ended = con.execute("""select status, count(*) from activation.journey_instances group by 1""").fetchall()
    assert set(dict(ended)) <= {"active", "completed", "exited"}
    runs = con.execute("select count(*) from activation.journey_runs").fetchone()[0]
    assert runs == (DAYS + 1) * len(JOURNEYS)

"""The dashboard's campaigns section from a hand-made warehouse: activation's assignments and sync runs,
email events, orders, and marts.campaign_results as activation writes it. Expectations are counted
from the fixture's own lists, not from the warehouse; no personal data reaches the page."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from mercator.activation import state
from mercator.experiments.campaigns import write_campaign_results
from mercator.reporting import build_dashboard

from tests.mercator.reporting.test_failed_gate import record, slot

WINDOW = 14
AS_OF = date(2026, 9, 25)  # the 09-15 sends' window is still open
COSTS = {"email": 0.01, "sms": 0.05}
SEPT_1, SEPT_15 = date(2026, 9, 1), date(2026, 9, 15)
RUNS = {"run-a": SEPT_1, "run-b": SEPT_15}  # run -> as-of date
# (run, audience, channel, prefix of its members, treated, held out)
COHORTS = [
    ("run-a", "audience_at_risk_email", "email", "a", 10, 4),
    ("run-b", "audience_at_risk_email", "email", "b", 6, 2),
    ("run-b", "welcome", "email", "w", 5, 2),
    ("run-a", "audience_winback_sms", "sms", "s", 4, 1),
]
# (run, audience as synced, sent, delivered, dry run, started): run-c recorded no assignment
SYNC_RUNS = [
    ("run-a", "audience_at_risk_email", 10, 9, False, datetime(2026, 10, 2, 12, tzinfo=UTC)),
    ("dry", "audience_at_risk_email", 99, None, True, datetime(2026, 10, 3, 12, tzinfo=UTC)),
    ("run-b", "audience_at_risk_email", 6, 6, False, datetime(2026, 10, 16, 12, tzinfo=UTC)),
    ("run-b", "welcome.day0", 5, 5, False, datetime(2026, 10, 16, 12, tzinfo=UTC)),
    ("run-b", "welcome.day3", 4, 3, False, datetime(2026, 10, 19, 12, tzinfo=UTC)),
    ("run-c", "welcome.day7", 2, 2, False, datetime(2026, 9, 20, 12, tzinfo=UTC)),
    ("run-a", "audience_winback_sms", 4, 4, False, datetime(2026, 10, 2, 12, tzinfo=UTC)),
]
EVENTS = [  # (member, event, campaign); `x` resolves to nobody, `shared` to an excluded identifier
    ("a-t0", "open", "audience_at_risk_email"), ("a-t0", "open", "audience_at_risk_email"),
    ("a-t0", "click", "audience_at_risk_email"), ("a-t1", "open", "audience_at_risk_email"),
    ("a-t1", "delivered", "audience_at_risk_email"), ("a-t2", "open", "audience_at_risk_email"),
    ("a-t2", "unsubscribe", "audience_at_risk_email"), ("a-t3", "open", "audience_at_risk_email"),
    ("b-t0", "open", "audience_at_risk_email"), ("b-t0", "group_unsubscribe", "audience_at_risk_email"),
    ("b-t1", "click", "audience_at_risk_email"),
    ("a-t4", "open", "newsletter_sep"), ("a-t5", "open", None),
    ("a-h0", "open", "audience_at_risk_email"), ("x", "open", "audience_at_risk_email"),
    ("shared", "click", "audience_at_risk_email"),
    ("w-t0", "open", "welcome.day0"), ("w-t0", "open", "welcome.day3"), ("w-t1", "click", "welcome.day3"),
    ("w-t2", "unsubscribe", "welcome.day3"),
]
ENGAGED = {"opens": ("open",), "clicks": ("click",), "unsubscribes": ("unsubscribe", "group_unsubscribe")}


def members(prefix: str, treated: int, held_out: int) -> list[tuple[str, str]]:
    return [(f"{prefix}-t{i}", "treatment") for i in range(treated)] + [
        (f"{prefix}-h{i}", "holdout") for i in range(held_out)]


def key(member: str) -> str:
    return f"ck-{member}-7f3a"


def address(member: str) -> str:
    return f"{member}@secret.example"


def orders() -> list[tuple[str, date, float, bool]]:
    """(member, day, amount, countable): in each send's window, before it, after it, not countable. No
    group's revenue per member falls on half a cent, which would round either way."""
    placed = []
    for run, _, _, prefix, treated, held_out in COHORTS:
        send = RUNS[run]
        for n, (member, group) in enumerate(members(prefix, treated, held_out)):
            if n % 2 == 0 or group == "holdout" and n % 3 == 0:
                amount = round(20 + 1.37 * n + 0.03 * (n % 4), 2)
                placed.append((member, send + timedelta(days=1 + n % WINDOW), amount, True))
            placed.append((member, send - timedelta(days=3), 11.11, True))  # pre-period
        placed.append((f"{prefix}-t1", send + timedelta(days=WINDOW + 1), 500.0, True))  # after the window
        placed.append((f"{prefix}-t1", send + timedelta(days=2), 77.0, False))  # not countable
    return placed


def make_warehouse(path):
    """The fixture's warehouse and each send's (incremental revenue, conversion lift interval)."""
    with duckdb.connect(str(path)) as con:
        state.ensure(con)
        con.execute("begin")  # one commit: a file commits each statement otherwise
        con.execute("create schema marts; create schema staging")
        con.execute("create table marts.customer_rfm (customer_key varchar, segment varchar, r_score integer, "
                    "f_score integer, monetary double, as_of date)")
        con.execute("insert into marts.customer_rfm values ('nobody', 'Lost', 1, 1, 0, ?)", [AS_OF])
        con.execute("create table marts.fct_orders (customer_key varchar, ordered_at timestamp, net_amount_reporting "
                    "decimal(18, 2), is_countable boolean, reporting_currency varchar default 'USD')")
        con.executemany("insert into marts.fct_orders (customer_key, ordered_at, net_amount_reporting, is_countable) "
                        "values (?, ?, ?, ?)",
                        [[key(m), day, amount, ok] for m, day, amount, ok in orders()])
        con.execute("create table marts.customer_identities (customer_key varchar, identifier_type varchar, "
                    "identifier_value varchar, is_excluded boolean)")
        everyone = {m for *_, prefix, t, h in COHORTS for m, _ in members(prefix, t, h)}
        con.executemany("insert into marts.customer_identities values (?, 'email', ?, false)",
                        [[key(m), address(m)] for m in sorted(everyone)])
        con.execute("insert into marts.customer_identities values (null, 'email', ?, true)", [address("shared")])
        for run, audience, channel, prefix, treated, held_out in COHORTS:
            con.executemany(
                "insert into activation.assignments (run_id, audience, customer_key, assignment, would_send, bucket,"
                " assigned_at, as_of, channel, holdout_share) values (?, ?, ?, ?, true, 0.5, ?, ?, ?, 0.25)",
                [[run, audience, key(m), group, datetime.combine(RUNS[run], datetime.min.time()), RUNS[run],
                  channel] for m, group in members(prefix, treated, held_out)])
        con.execute(  # a later change of assignment does not move a member out of its first send
            "insert into activation.assignments (run_id, audience, customer_key, assignment, would_send, bucket, "
            "assigned_at, as_of, channel, holdout_share) "
            "values ('run-b', 'audience_at_risk_email', ?, 'holdout', true, 0.1, ?, ?, 'email', 0.5)",
            [key("a-t3"), datetime(2026, 9, 15), SEPT_15])
        for run, audience, sent, delivered, dry, started in SYNC_RUNS:
            con.execute("insert into activation.sync_runs (run_id, audience, destination, status, dry_run, "
                        "started_at, sent, delivered) values (?, ?, 'sendgrid:mercator_sendgrid', 'succeeded', ?, ?, "
                        "?, ?)", [run, audience, dry, started, sent, delivered])
        con.execute("create table staging.stg_email__events (email varchar, occurred_at timestamp, event varchar, "
                    "sg_message_id varchar, campaign varchar)")
        con.executemany("insert into staging.stg_email__events values (?, timestamp '2026-09-16 08:00', ?, 'm1', ?)",
                        [[address(m), event, campaign] for m, event, campaign in EVENTS])
        con.execute("commit")
        write_campaign_results(con, COSTS, WINDOW)
        results = {(a, d): (r, h, c) for a, d, r, h, c in con.execute(
            "select audience, send_date, incremental_revenue, conversion_lift_low, conversion_lift_high "
            "from marts.campaign_results").fetchall()}
    return results


def copy_without(warehouse, target, *tables: str):
    """A copy of the fixture's warehouse with `tables` dropped."""
    shutil.copyfile(warehouse, target)
    with duckdb.connect(str(target)) as con:
        for table in tables:
            con.execute(f"drop table {table}")
    return target


def cohort(audience: str, send: date) -> list[tuple[str, str]]:
    return [m for run, a, _, prefix, t, h in COHORTS if a == audience and RUNS[run] == send
            for m in members(prefix, t, h)]


def expected_sends(audience: str, send: date | None) -> tuple[int, int]:
    dates = {"run-c": date(2026, 9, 20), **RUNS}
    chosen = [(s, d) for run, a, s, d, dry, _ in SYNC_RUNS
              if a.split(".")[0] == audience and not dry and (send is None or dates[run] == send)]
    return sum(s for s, _ in chosen), sum(d for _, d in chosen)


def expected_engaged(audience: str, send: date | None, metric: str) -> int:
    sends = [send] if send else sorted({RUNS[run] for run, a, *_ in COHORTS if a == audience})
    treated = {m for day in sends for m, g in cohort(audience, day) if g == "treatment"}
    return len({m for m, event, campaign in EVENTS if m in treated and event in ENGAGED[metric]
                and (campaign or "").split(".")[0] == audience})


def expected_arm(audience: str, send: date, group: str) -> tuple[int, int, float]:
    """Members, converted, revenue in the window after the send."""
    chosen = {m for m, g in cohort(audience, send) if g == group}
    window = [(m, amount) for m, day, amount, ok in orders()
              if m in chosen and ok and send < day <= send + timedelta(days=WINDOW)]
    return len(chosen), len({m for m, _ in window}), sum(amount for _, amount in window)


def cells(html: str, campaign: str, send: str) -> dict[str, str]:
    """metric -> text of every data-metric cell in the campaign's rows of that send ('total': All sends)."""
    block = re.search(rf'<div class="campaign" data-campaign="{re.escape(campaign)}">(.*?)</div>', html, re.S)
    assert block, f"no campaign {campaign}"
    found = {}
    for row in re.findall(rf'<tr data-send="{send}"[^>]*>(.*?)</tr>', block.group(1), re.S):
        found |= dict(re.findall(r'data-metric="(\w+)">([^<]*)<', row))
    return found


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("campaigns") / "w.duckdb"
    return path, make_warehouse(path)


@pytest.fixture(scope="module")
def page(warehouse, tmp_path_factory):
    path, results = warehouse
    return build_dashboard(path, tmp_path_factory.mktemp("reports")).read_text(), results


@pytest.mark.parametrize("audience", ["audience_at_risk_email", "welcome"])
def test_sends_deliveries_and_unique_engaged_members_per_send_and_in_total(page, audience):
    html, _ = page
    sends = sorted({RUNS[run] for run, a, *_ in COHORTS if a == audience}, reverse=True)
    for send in [*sends, None]:
        shown = cells(html, audience, str(send) if send else "total")
        sent, delivered = expected_sends(audience, send)
        assert (shown["sends"], shown["deliveries"]) == (f"{sent:,}", f"{delivered:,}")
        for metric in ENGAGED:
            engaged = expected_engaged(audience, send, metric)
            assert shown[metric] == f"{engaged:,}", (audience, send, metric)
            assert shown[f"{metric}_rate"] == f"{engaged / delivered:.1%}"


def test_treatment_and_holdout_conversions_revenue_per_member_lift_and_roi(page):
    html, results = page
    total_increment = total_cost = 0.0
    for send in (SEPT_15, SEPT_1):
        shown = cells(html, "audience_at_risk_email", str(send))
        rates = {}
        for group in ("treatment", "holdout"):
            members, converted, revenue = expected_arm("audience_at_risk_email", send, group)
            rates[group] = converted / members
            assert shown[f"{group}_members"] == f"{members:,}" and shown[f"{group}_conversions"] == f"{converted:,}"
            assert shown[f"{group}_conversion_rate"] == f"{converted / members:.1%}"
            assert shown[f"{group}_revenue_per_member"] == f"{revenue / members:,.2f}"
        increment, low, high = results[("audience_at_risk_email", send)]
        treated = expected_arm("audience_at_risk_email", send, "treatment")[0]
        cost = COSTS["email"] * treated
        total_increment, total_cost = total_increment + increment, total_cost + cost
        assert shown["conversion_lift"] == f"{(rates['treatment'] - rates['holdout']) * 100:+.1f} pp"
        assert shown["conversion_lift_interval"] == f"[{low * 100:+.1f} pp, {high * 100:+.1f} pp]"
        assert shown["incremental_revenue"] == f"{increment:+,.2f}"
        assert shown["roi"] == f"{(increment - cost) / cost:+,.0%}"
        assert shown["verdict"] == "under-powered"  # under 10 conversions a group
    total = cells(html, "audience_at_risk_email", "total")
    members = sum(expected_arm("audience_at_risk_email", s, "treatment")[0] for s in (SEPT_1, SEPT_15))
    revenue = sum(expected_arm("audience_at_risk_email", s, "treatment")[2] for s in (SEPT_1, SEPT_15))
    assert total["treatment_members"] == f"{members:,}"
    assert total["treatment_revenue_per_member"] == f"{revenue / members:,.2f}"
    assert total["incremental_revenue"] == f"{total_increment:+,.2f}"
    assert total["roi"] == f"{(total_increment - total_cost) / total_cost:+,.0%}"
    assert "conversion_lift" not in total  # lifts are per send


def test_journeys_group_their_steps_campaigns_come_latest_send_first_and_nothing_personal(page):
    html, _ = page
    order = re.findall(r'<div class="campaign" data-campaign="([^"]+)">', html)
    assert order == ["welcome", "audience_at_risk_email", "audience_winback_sms"]  # 09-20, 09-15, 09-01
    welcome = re.search(r'data-campaign="welcome">\s*<h3>(.*?)</h3>', html, re.S).group(1)
    assert "journey" in welcome and "steps day0, day3, day7" in welcome
    assert cells(html, "welcome", "2026-09-20")["sends"] == "2"  # run-c: its start date, no assignment
    sms = cells(html, "audience_winback_sms", "2026-09-01")
    assert sms["sends"] == "4" and sms["opens"] == "–" and "opens_rate" not in sms  # no email events for SMS
    unmatched = re.search(r'data-unmatched="audience_at_risk_email">(\d+) recipient', html).group(1)
    assert int(unmatched) == len({"a-h0", "x", "shared"})
    assert html.count('<span class="tag">window open</span>') == 2  # the 09-15 sends, 10 days old
    assert "<svg" in html[html.index('id="campaigns"'):]
    people = {m for m, *_ in EVENTS} | {m for *_, p, t, h in COHORTS for m, _ in members(p, t, h)}
    assert not [m for m in people if address(m) in html or key(m) in html]
    assert "secret.example" not in html and "ck-" not in html


@pytest.mark.parametrize("missing", ["activation.sync_runs", "staging.stg_email__events", "marts.campaign_results"])
def test_a_missing_source_leaves_its_columns_empty(warehouse, tmp_path, missing):
    path = copy_without(warehouse[0], tmp_path / "w.duckdb", missing)

    html = build_dashboard(path, tmp_path / "reports").read_text()

    shown = cells(html, "audience_at_risk_email", "2026-09-01")
    assert (shown["sends"] == "–") == (missing == "activation.sync_runs")
    assert (shown["opens"] == "–") == (missing == "staging.stg_email__events")
    assert ("treatment_members" in shown) == (missing != "marts.campaign_results")


def test_no_source_at_all_is_an_empty_state_line(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()

    html = build_dashboard(path, tmp_path / "reports").read_text()

    assert 'id="campaigns"' in html and "No campaigns yet" in html


def test_a_failed_gate_on_the_orders_shows_the_last_good_campaigns(warehouse, tmp_path):
    path = copy_without(warehouse[0], tmp_path / "w.duckdb")
    reports = tmp_path / "reports"
    record(reports, "marts", "run-1")
    build_dashboard(path, reports, "run-1", {})
    with duckdb.connect(str(path)) as con:
        con.execute("update activation.sync_runs set sent = sent + 1000")
    record(reports, "marts", "run-2", {"marts_fct_orders": ("marts.fct_orders", "expect_x: 1 of 2 rows unexpected")})

    html = build_dashboard(path, reports, "run-2", {"quality_marts.validate_marts": "failed"}).read_text()

    shown, section = slot(html, "campaigns")
    assert shown == "last_good" and "critical failures in marts_fct_orders" in section
    sent, _ = expected_sends("audience_at_risk_email", SEPT_1)
    assert cells(section, "audience_at_risk_email", "2026-09-01")["sends"] == f"{sent:,}"

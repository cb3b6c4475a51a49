"""Every number of the KPI tiles, weekly trends, cohort triangle, segment migration, syncs and alerts
against the fixture warehouse's own computation in Python: tiles to the cent, counts exactly."""

from __future__ import annotations

import csv
import html as html_lib
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from mercator.reporting import build_dashboard

from tests.mercator.reporting.fixture_warehouse import AS_OF, PII, SEGMENTS_CSV, make_fixture, write_warehouse

FIXTURE = make_fixture()


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("numbers")
    return build_dashboard(write_warehouse(root / "w.duckdb", FIXTURE), root / "reports").read_text()


def counted(first: date, last: date):
    return [o for o in FIXTURE.orders if o.countable and first <= o.day <= last]


def first_orders() -> dict[str, list[date]]:
    days: dict[str, list[date]] = {}
    for o in FIXTURE.orders:
        if o.countable and o.customer and o.day <= AS_OF:
            days.setdefault(o.customer, []).append(o.day)
    return {k: sorted(v) for k, v in days.items()}


def expected_kpis(first: date, last: date) -> dict[str, str]:
    """The tile texts for the period first..last, computed from the fixture's orders and spend."""
    orders = counted(first, last)
    revenue = sum((o.amount for o in orders if o.amount is not None), Decimal(0))
    priced = sum(1 for o in orders if o.amount is not None)
    history = first_orders()
    buyers = {o.customer for o in orders if o.customer}
    returning = {k for k in buyers if history[k][0] < first}
    new = sum(1 for days in history.values() if first <= days[0] <= last)
    to_date = [days for days in history.values() if days[0] <= last]
    repeat = sum(1 for days in to_date if len(days) > 1 and days[1] <= last)
    spend = sum((v for d, v in FIXTURE.spend.items() if first <= d <= last), Decimal(0))

    def money(v):
        return "–" if v is None else f"{v:,.2f} USD"

    return {
        "revenue": money(revenue),
        "orders": f"{len(orders):,}",
        "aov": money(revenue / priced if priced else None),
        "new_customers": f"{new:,}",
        "returning_share": f"{len(returning) / len(buyers):.1%}" if buyers else "–",
        "repeat_rate": f"{repeat / len(to_date):.1%}" if to_date else "–",
        "cac": money(spend / new if new else None),
        "roas": f"{revenue / spend:,.2f}×" if spend else "–",
    }


def tile(page: str, name: str) -> str:
    found = re.search(rf'<div class="tile kpi" id="kpi-{name}".*?</svg>', page, re.S)
    assert found, name
    return found.group(0)


def test_tiles_show_the_last_28_days_against_the_28_before(page):
    current = expected_kpis(AS_OF - timedelta(days=27), AS_OF)
    previous = expected_kpis(AS_OF - timedelta(days=55), AS_OF - timedelta(days=28))
    for name in current:
        shown = tile(page, name)
        assert re.search(r"data-value>(.*?)<", shown).group(1) == current[name], name
        assert re.search(r"data-previous>(.*?)<", shown).group(1) == previous[name], name


def test_costs_read_down_is_good(page):
    for name in ("revenue", "cac"):
        shown = tile(page, name)
        trend = re.search(r'data-trend="(\w+)"', shown).group(1)
        verdict = re.search(r'data-verdict="(\w+)"', shown).group(1)
        good = {"revenue": "up", "cac": "down"}[name]
        assert verdict == ("good" if trend == good else "neutral" if trend in ("flat", "none") else "bad"), name
    assert "down is good" in tile(page, "cac") and "down is good" not in tile(page, "revenue")


def test_sparklines_are_the_13_weeks_to_the_as_of_date(page):
    for week in range(13):
        last = AS_OF - timedelta(days=7 * week)
        expected = expected_kpis(last - timedelta(days=6), last)
        for name, text in expected.items():
            if text != "–":
                assert f"<title>week to {last}: {html_lib.escape(text)}</title>" in tile(page, name), (name, last)


def test_weekly_table_counts_revenue_orders_new_and_returning(page):
    history = first_orders()
    for week in range(26):
        last = AS_OF - timedelta(days=7 * week)
        first = last - timedelta(days=6)
        orders = counted(first, last)
        buyers = {o.customer for o in orders if o.customer}
        row = re.search(rf'<tr data-week="{last}">.*?</tr>', page, re.S).group(0)
        cells = dict(re.findall(r'data-metric="(\w+)">([^<]*)<', row))
        new = sum(1 for d in history.values() if first <= d[0] <= last)
        returning = sum(1 for k in buyers if history[k][0] < first)
        assert cells == {
            "revenue": f"{sum((o.amount or 0 for o in orders), Decimal(0)):,.2f}",
            "orders": f"{len(orders):,}",
            "new": f"{new:,}",
            "returning": f"{returning:,}",
        }, last
        for bar in (f"orders {len(orders):,}", f"new {new:,}", f"returning {returning:,}"):  # the charts' tooltips
            assert f"<title>week to {last}: {bar}</title>" in page, (last, bar)


def test_cohort_triangle_counts_customers_and_leaves_incomplete_months_blank(page):
    cohorts: dict[str, dict[int, set[str]]] = {}
    for key, days in first_orders().items():
        start = days[0].year * 12 + days[0].month - 1
        for d in days:
            cohorts.setdefault(f"{days[0]:%Y-%m}", {}).setdefault(d.year * 12 + d.month - 1 - start, set()).add(key)
    shown = {}
    for month, cells in re.findall(r'<tr data-cohort="([\d-]+)">(.*?)</tr>', page, re.S):
        shown[month] = [int(n) if n else None for n in re.findall(r'<td class="(?:blank" data-blank>|num cell" '
                                                                   r'data-active="(\d+)")', cells)]
    # cohorts: the 12 complete months before the as-of date 2026-03-31 (March complete too)
    assert list(shown) == [f"{y}-{m:02d}" for y, m in [(2025, m) for m in range(4, 13)] + [(2026, 1), (2026, 2),
                                                                                        (2026, 3)]]
    for i, (month, cells) in enumerate(shown.items()):
        expected = [len(cohorts[month].get(k, ())) if k < 12 - i else None for k in range(12)]
        assert cells == expected, month


def test_migration_matrix_counts_moves_from_the_segment_history(page):
    start, none = AS_OF - timedelta(days=30), "not scored"
    before, after = {}, {}
    for key, segment, as_of, _, valid_to in FIXTURE.history:
        if as_of <= start:
            before[key] = segment
        successor = any(k == key and a > as_of for k, _, a, _, _ in FIXTURE.history)
        if as_of <= AS_OF and not (valid_to is not None and not successor):
            after[key] = segment
    moves: dict[tuple[str, str], list[str]] = {}
    for key in before.keys() | after.keys():
        moves.setdefault((before.get(key, none), after.get(key, none)), []).append(key)
    cells = {(s, t): int(n) for s, row in re.findall(r'<tr data-from="([^"]+)">(.*?)</tr>', page, re.S)
             for t, n in re.findall(r'data-to="([^"]+)" data-moved="(\d+)"', row)}
    decoded = {(html_lib.unescape(s), html_lib.unescape(t)): n for (s, t), n in cells.items()}
    assert {pair: n for pair, n in decoded.items() if n} == {pair: len(keys) for pair, keys in moves.items()}

    rank = {}
    for row in csv.DictReader(SEGMENTS_CSV.open()):
        rank[row["segment"]] = sum(int(row[c]) for c in ("r_score_min", "r_score_max", "fm_score_min", "fm_score_max"))
    downgrades = sorted(((s, t, len(k), sum(FIXTURE.monetary.get(c, 0) for c in k)) for (s, t), k in moves.items()
                         if s in rank and t in rank and rank[t] < rank[s]), key=lambda d: (-d[3], -d[2], d[0], d[1]))
    shown = [tuple(html_lib.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", row))
             for row in re.findall(r'<tr data-downgrade=.*?</tr>', page, re.S)]
    assert downgrades and shown == [(s, t, f"{n:,}", f"{v:,.2f}") for s, t, n, v in downgrades[:5]]


def test_latest_sync_per_audience_and_destination(page):
    rows = dict(re.findall(r'<tr data-sync="([^"]+)">(.*?)</tr>', page, re.S))
    assert set(rows) == {"audience_at_risk_email|outbox", "audience_winback_sms|twilio:sms"}
    metrics = dict(re.findall(r'data-metric="(\w+)">([^<]*)<', rows["audience_at_risk_email|outbox"]))
    assert (metrics["members"], metrics["sent"], metrics["delivered"]) == ("55", "44", "33")  # r2, not the dry run
    assert "failed" in rows["audience_winback_sms|twilio:sms"] and "HTTP 500" in rows["audience_winback_sms|twilio:sms"]


def test_open_alerts_link_to_their_tiles(page):
    episodes = dict(re.findall(r'<tr data-episode="(\w+)">(.*?)</tr>', page, re.S))
    assert set(episodes) == {e[0] for e in FIXTURE.episodes if e[3] != "resolved"}
    assert 'href="#kpi-revenue"' in episodes["e1"] and 'href="#kpi-cac"' in episodes["e2"]
    assert 'id="kpi-revenue"' in page and 'id="kpi-cac"' in page


def test_no_alerts_table_says_no_alerts(tmp_path):
    page = build_dashboard(write_warehouse(tmp_path / "w.duckdb", FIXTURE, alerts=False), tmp_path / "r").read_text()
    assert 'data-alerts="none">No alerts' in page and "data-episode" not in page


def test_no_personal_data_and_nothing_to_fetch(page):
    for i in range(60):
        for pattern in PII.values():
            assert pattern.format(i) not in page
    assert not re.search(r"https?://|<script|@import|<link", page)

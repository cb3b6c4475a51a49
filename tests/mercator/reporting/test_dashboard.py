"""The dashboard from a small hand-made warehouse: numbers right, offline, no personal data."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from mercator.reporting import build_dashboard

SEGMENTS = ("champions", "loyal", "at_risk", "hibernating")
EMAILS = [f"shopper{i}@example.org" for i in range(40)]
NAMES = [f"Zebulon{i}" for i in range(40)]
PHONES = [f"+1555010{i:04d}" for i in range(40)]


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema raw")
        con.execute(
            """create table marts.dim_customers (customer_key varchar, email varchar, first_name varchar,
               phone varchar, email_consent varchar)"""
        )
        con.executemany(
            "insert into marts.dim_customers values (?, ?, ?, ?, 'granted')",
            [[f"k{i}", *person] for i, person in enumerate(zip(EMAILS, NAMES, PHONES, strict=True))],
        )
        con.execute(
            """create table marts.fct_orders as
               select 'o' || i as order_key, 'k' || (i % 30) as customer_key, 'USD' as currency,
                   (10 + i % 7)::decimal(18, 2) as net_amount, i % 11 <> 0 as is_countable,
                   'USD' as reporting_currency, (10 + i % 7)::decimal(18, 2) as net_amount_reporting,
                   timestamp '2026-01-01' + to_days(i::int) as ordered_at
               from range(75) as t(i)"""
        )
        con.execute(
            """create table marts.customer_rfm as
               select 'k' || i as customer_key, 1 + i % 5 as r_score, 1 + (i * 7) % 5 as f_score,
                   1 + i % 3 as m_score, ? [1 + i % 4] as segment, 25.0 as monetary,
                   date '2026-03-31' as as_of
               from range(30) as t(i)""",
            [list(SEGMENTS)],
        )
        con.execute(
            "create table raw.quarantine as select i as line, 'bad date' as reason from range(3) as t(i)"
        )
    return path


def test_dashboard_shows_computed_numbers(warehouse, tmp_path):
    reports = tmp_path / "reports"
    (reports / "quality").mkdir(parents=True)
    (reports / "quality" / "last_run.json").write_text(
        json.dumps(
            {
                "suites": {
                    "raw_shop_orders": {
                        "status": "passed_with_warnings",
                        "table": "raw.shop__orders",
                        "warnings": ["expect_x(status): 2 of 9 rows unexpected"],
                    }
                }
            }
        )
    )

    html = build_dashboard(warehouse, reports).read_text()

    with duckdb.connect(str(warehouse), read_only=True) as con:
        orders, revenue = con.execute(
            "select count(*), sum(net_amount) from marts.fct_orders where is_countable"
        ).fetchone()
        repeat = con.execute(
            """select avg((n >= 2)::int) from (select count(*) as n from marts.fct_orders where is_countable
               group by customer_key)"""
        ).fetchone()[0]
        rfm = con.execute("select count(*) from marts.customer_rfm").fetchone()[0]
        segments = con.execute("select segment, count(*) from marts.customer_rfm group by 1").fetchall()
    assert f'data-kpi="Customers">{len(EMAILS):,}<' in html
    assert f'data-kpi="Orders">{orders:,}<' in html
    assert f'data-kpi="Net revenue">{revenue:,.0f} USD<' in html
    assert re.search(rf'id="kpi-repeat_rate".*?data-value>{re.escape(f"{repeat:.1%}")}<', html, re.S)
    assert 'data-kpi="Quarantined rows">3<' in html
    assert "2026-03-31" in html
    for segment, n in segments:
        assert re.search(rf"<td>{segment}</td><td class=\"num\">{n}</td>", html)
    assert sum(int(c) for c in re.findall(r'data-count="(\d+)"', html)) == rfm
    assert len(re.findall(r'data-count="', html)) == 25
    assert "passed with warnings" in html and "2 of 9 rows unexpected" in html


def test_dashboard_is_offline_and_free_of_personal_data(warehouse, tmp_path):
    html = build_dashboard(warehouse, tmp_path / "reports").read_text()

    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    assert not re.search(r"https?://", html)
    assert "<script" not in html and "@import" not in html
    for value in [*EMAILS, *NAMES, *PHONES]:
        assert value not in html


def test_dashboard_survives_an_empty_warehouse(tmp_path):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()

    html = build_dashboard(path, tmp_path / "reports").read_text()

    assert "No RFM scores yet" in html and "marts.customer_rfm" in html
    assert "No quality run recorded yet" in html

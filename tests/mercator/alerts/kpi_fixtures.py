"""A hand-made marts.kpi_daily: seasonal revenue series and an email unsubscribe rate, day by day."""

from __future__ import annotations

from datetime import date, timedelta

START = date(2026, 1, 5)  # a Monday
WEEKLY = (1000.0, 800.0, 900.0, 1100.0, 1500.0, 2000.0, 600.0)
HISTORY = 70  # days before the first scored day


def add_day(con, t: int, shock: float = 1.0) -> date:
    """Day `t` of every series: revenue (all, shop) with weekly seasonality, unsubscribe_rate (email)."""
    day = START + timedelta(days=t)
    wiggle = 1 + 0.02 * ((t * 37) % 5 - 2)
    revenue = WEEKLY[t % 7] * wiggle * shock
    rows = [(day, "revenue", "all", revenue, 100), (day, "revenue", "shop", revenue, 100),
            (day, "unsubscribe_rate", "email", 0.01 * wiggle, 5000)]
    con.executemany("insert into marts.kpi_daily values (?, ?, ?, ?, ?, null)", rows)
    return day


def create_kpi_daily(con, days: int = 70) -> None:
    con.execute("create schema if not exists marts")
    con.execute("create table marts.kpi_daily (kpi_date date, kpi varchar, channel varchar, value double, "
                "volume bigint, as_of date)")
    for t in range(days):
        add_day(con, t)

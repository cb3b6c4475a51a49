"""The dashboard's numbers, computed in DuckDB from the public marts. Aggregates only, never a person."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mercator.warehouse import table_exists

SCORES = (1, 2, 3, 4, 5)


@dataclass
class Segment:
    name: str
    customers: int
    revenue: float


@dataclass
class DashboardData:
    customers: int | None = None
    orders: int | None = None
    net_revenue: float | None = None
    currency: str = ""
    quarantined_rows: int | None = None
    as_of: str | None = None
    segments: list[Segment] = field(default_factory=list)
    heatmap: list[list[int]] = field(default_factory=list)  # rows r_score 5..1, columns f_score 1..5
    rfm_customers: int = 0
    quality: dict = field(default_factory=dict)
    missing_tables: list[str] = field(default_factory=list)


def _orders(con, data: DashboardData) -> None:
    data.orders, data.net_revenue = con.execute(
        "select count(*), coalesce(sum(net_amount_reporting), 0) from marts.fct_orders where is_countable"
    ).fetchone()
    currencies = con.execute(  # orders without an exchange rate are left out of revenue, never mixed in
        "select distinct reporting_currency from marts.fct_orders"
    ).fetchall()
    data.currency = currencies[0][0] if len(currencies) == 1 else ""


def _rfm(con, data: DashboardData, with_orders: bool) -> None:
    revenue = (
        """(select customer_key, sum(net_amount_reporting) as revenue from marts.fct_orders
            where is_countable group by customer_key)"""
        if with_orders
        else "(select customer_key, monetary as revenue from marts.customer_rfm)"
    )
    rows = con.execute(
        f"""
        select coalesce(rfm.segment, 'unassigned'), count(*), coalesce(sum(revenue.revenue), 0)
        from marts.customer_rfm as rfm
        left join {revenue} as revenue on revenue.customer_key = rfm.customer_key
        group by 1
        order by 3 desc, 1
        """
    ).fetchall()
    data.segments = [Segment(name, int(n), float(amount)) for name, n, amount in rows]
    counts = dict(
        ((r, f), n)
        for r, f, n in con.execute(
            "select r_score, f_score, count(*) from marts.customer_rfm group by all"
        ).fetchall()
    )
    data.heatmap = [[int(counts.get((r, f), 0)) for f in SCORES] for r in reversed(SCORES)]
    data.rfm_customers = con.execute("select count(*) from marts.customer_rfm").fetchone()[0]
    data.as_of = con.execute("select max(as_of)::varchar from marts.customer_rfm").fetchone()[0]


def collect(con, reports_dir: Path) -> DashboardData:
    """Everything the dashboard shows; a table that does not exist leaves its numbers empty."""
    data = DashboardData()
    present = {
        t: table_exists(con, t)
        for t in ("marts.dim_customers", "marts.fct_orders", "marts.customer_rfm", "raw.quarantine")
    }
    data.missing_tables = [t for t, ok in present.items() if not ok]
    if present["marts.dim_customers"]:
        data.customers = con.execute("select count(*) from marts.dim_customers").fetchone()[0]
    if present["marts.fct_orders"]:
        _orders(con, data)
    if present["marts.customer_rfm"]:
        _rfm(con, data, present["marts.fct_orders"])
    if present["raw.quarantine"]:
        data.quarantined_rows = con.execute("select count(*) from raw.quarantine").fetchone()[0]
    if not data.as_of and present["marts.fct_orders"]:
        data.as_of = con.execute("select max(ordered_at)::date::varchar from marts.fct_orders").fetchone()[0]
    last_run = reports_dir / "quality" / "last_run.json"
    if last_run.exists():
        data.quality = json.loads(last_run.read_text()).get("suites", {})
    return data

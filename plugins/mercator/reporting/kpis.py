"""KPI tiles and weekly trends: periods of equal length that end on the as-of date.

A period of n days ends on the as-of date (included); the previous period is the n days before it.
Tiles compare the last 28 days with the 28 days before; weeks are 7-day periods, the latest ending on
the as-of date. Orders are the countable orders of `marts.fct_orders` placed on or before the as-of
date (their day is `cast(ordered_at as date)`, as dbt counts them), revenue their net amount in the
reporting currency; ad spend is `staging.stg_ads__spend` by its date (no spend table: no CAC, ROAS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from mercator.warehouse import rows, table_exists

PERIOD_DAYS = 28
WEEKS = 26
SPARK_WEEKS = 13

PERIODS_SQL = """
with orders as (
    select customer_key, cast(ordered_at as date) as day, net_amount_reporting as amount
    from marts.fct_orders
    where is_countable and cast(ordered_at as date) <= $as_of
),
numbered as (
    select customer_key, day, row_number() over (partition by customer_key order by day) as n
    from orders
    where customer_key is not null
),
customers as (
    select customer_key, min(day) as first_order_day, min(day) filter (where n = 2) as second_order_day
    from numbered
    group by customer_key
),
periods as (select * from (values {periods}) as p(days, period, first_day, last_day)),
sales as (
    select p.days, p.period, coalesce(sum(o.amount), 0) as revenue, count(o.day) as orders,
        count(o.amount) as priced_orders, count(distinct o.customer_key) as buyers,
        count(distinct o.customer_key) filter (where c.first_order_day < p.first_day) as returning_buyers
    from periods as p
    left join (select * from orders where day >= (select min(first_day) from periods)) as o
        on o.day between p.first_day and p.last_day
    left join customers as c on c.customer_key = o.customer_key
    group by p.days, p.period
),
first_orders as (select first_order_day as day, count(*) as n from customers group by 1),
second_orders as (
    select second_order_day as day, count(*) as n from customers where second_order_day is not null group by 1
),
to_date as (
    select p.days, p.period, cast(coalesce(sum(f.n) filter (where f.day >= p.first_day), 0) as bigint)
            as new_customers,
        cast(coalesce(sum(f.n), 0) as bigint) as customers_to_date
    from periods as p
    left join first_orders as f on f.day <= p.last_day
    group by p.days, p.period
),
repeats as (
    select p.days, p.period, cast(coalesce(sum(r.n), 0) as bigint) as repeat_customers_to_date
    from periods as p
    left join second_orders as r on r.day <= p.last_day
    group by p.days, p.period
),
spend as ({spend})
select p.days, p.first_day, p.last_day, s.revenue, s.orders, s.priced_orders, s.buyers, s.returning_buyers,
    t.new_customers, t.customers_to_date, r.repeat_customers_to_date, spend.spend
from periods as p
join sales as s using (days, period)
join to_date as t using (days, period)
join repeats as r using (days, period)
left join spend using (days, period)
order by p.days, p.period desc
"""
SPEND_SQL = """select p.days, p.period, coalesce(sum(a.spend), 0) as spend from periods as p
    left join staging.stg_ads__spend as a on a.date between p.first_day and p.last_day group by p.days, p.period"""
NO_SPEND_SQL = "select days, period, cast(null as decimal(18, 2)) as spend from periods"


@dataclass
class Period:
    first_day: date
    last_day: date
    revenue: Decimal
    orders: int
    priced_orders: int  # with an amount in the reporting currency
    buyers: int  # distinct customers with an order in the period
    returning_buyers: int  # of them, those whose first order was before the period
    new_customers: int  # first order in the period
    customers_to_date: int  # first order on or before the period's last day
    repeat_customers_to_date: int  # second order on or before the period's last day
    spend: Decimal | None


@dataclass(frozen=True)
class Kpi:
    name: str  # the tile's anchor is kpi-<name>
    label: str
    kind: str  # money | count | share | ratio
    definition: str
    lower_is_better: bool = False


KPIS = (
    Kpi("revenue", "Net revenue", "money", "net amount of the period's countable orders"),
    Kpi("orders", "Orders", "count", "countable orders placed in the period"),
    Kpi("aov", "Average order value", "money", "net revenue / orders priced in the reporting currency"),
    Kpi("new_customers", "New customers", "count", "customers whose first countable order is in the period"),
    Kpi("returning_share", "Returning share", "share",
        "share of the period's buyers whose first order was before the period"),
    Kpi("repeat_rate", "Repeat rate", "share",
        "share of customers to date (first order on or before the period's last day) with two or more orders"),
    Kpi("cac", "CAC", "money", "ad spend / new customers (blended: all spend, all new customers)",
        lower_is_better=True),
    Kpi("roas", "ROAS", "ratio", "net revenue / ad spend (blended; per channel in Attribution)"),
)


def _ratio(top, bottom):
    return None if top is None or not bottom else (Decimal(top) / Decimal(bottom))


def kpi_value(p: Period, name: str):
    """The KPI's value over the period (None when undefined: nothing to divide by)."""
    return {
        "revenue": lambda: p.revenue,
        "orders": lambda: p.orders,
        "aov": lambda: _ratio(p.revenue, p.priced_orders),
        "new_customers": lambda: p.new_customers,
        "returning_share": lambda: _ratio(p.returning_buyers, p.buyers),
        "repeat_rate": lambda: _ratio(p.repeat_customers_to_date, p.customers_to_date),
        "cac": lambda: _ratio(p.spend, p.new_customers),
        "roas": lambda: _ratio(p.revenue, p.spend),
    }[name]()


def collect_periods(con, as_of: date, lengths: dict[int, int]) -> dict[int, list[Period]]:
    """For each period length in days, its `count` consecutive periods, the latest ending on `as_of`;
    oldest first. One pass over the orders for all of them."""
    spans = [(days, i, as_of - timedelta(days=days * i + days - 1), as_of - timedelta(days=days * i))
             for days, count in lengths.items() for i in range(count)]
    values = ", ".join(f"({days}, {i}, date '{first}', date '{last}')" for days, i, first, last in spans)
    spend = SPEND_SQL if table_exists(con, "staging.stg_ads__spend") else NO_SPEND_SQL
    found: dict[int, list[Period]] = {days: [] for days in lengths}
    for r in rows(con, PERIODS_SQL.format(periods=values, spend=spend), {"as_of": as_of}):
        found[r.pop("days")].append(Period(**r))
    return found


@dataclass
class Trends:
    as_of: date
    current: Period  # the last PERIOD_DAYS days
    previous: Period  # the PERIOD_DAYS days before
    weeks: list[Period]  # WEEKS weeks, oldest first


def collect_trends(con, as_of: str | None) -> Trends | None:
    """The tiles' periods and the weeks, or None without orders or an as-of date."""
    if not as_of or not table_exists(con, "marts.fct_orders"):
        return None
    day = date.fromisoformat(as_of)
    found = collect_periods(con, day, {PERIOD_DAYS: 2, 7: WEEKS})
    previous, current = found[PERIOD_DAYS]
    return Trends(day, current, previous, found[7])

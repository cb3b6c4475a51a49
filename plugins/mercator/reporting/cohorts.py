"""Monthly cohort retention: customers by the month of their first countable order, and how many of
them ordered again in each later month.

Cohorts are the last COHORTS calendar months complete at the as-of date (a month is complete when
its last day is on or before it). A cell is the cohort's customers with a countable order in that
month (month 0 is every one of them); months not complete at the as-of date are left blank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from mercator.warehouse import table_exists

COHORTS = 12

COHORT_SQL = """
with orders as (
    select customer_key, cast(date_trunc('month', cast(ordered_at as date)) as date) as month
    from marts.fct_orders
    where is_countable and customer_key is not null and cast(ordered_at as date) <= $as_of
),
cohorts as (select customer_key, min(month) as cohort from orders group by customer_key)
select c.cohort, cast(datediff('month', c.cohort, o.month) as integer) as offset_months,
    count(distinct o.customer_key) as customers
from orders as o
join cohorts as c using (customer_key)
where c.cohort between $first and $last
group by all
"""


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def last_complete_month(as_of: date) -> date:
    """The first day of the latest calendar month that ends on or before `as_of`."""
    following = date.fromordinal(as_of.toordinal() + 1)
    return add_months(date(as_of.year, as_of.month, 1), 0 if following.day == 1 else -1)


@dataclass
class Cohort:
    month: date
    size: int
    cells: list[int | None] = field(default_factory=list)  # customers active in month k; None: not complete

    def share(self, k: int) -> float | None:
        n = self.cells[k]
        return None if n is None or not self.size else n / self.size


def collect_cohorts(con, as_of: str | None) -> list[Cohort]:
    """The retention triangle, oldest cohort first; empty without orders."""
    if not as_of or not table_exists(con, "marts.fct_orders"):
        return []
    day = date.fromisoformat(as_of)
    last = last_complete_month(day)
    first = add_months(last, 1 - COHORTS)
    counts = {(m, k): n for m, k, n in con.execute(COHORT_SQL, {"as_of": day, "first": first, "last": last}
                                                   ).fetchall()}
    cohorts = []
    for i in range(COHORTS):
        month = add_months(first, i)
        if (month, 0) not in counts:
            continue
        complete = COHORTS - i  # months from the cohort's to the last complete one
        cells = [counts.get((month, k), 0) if k < complete else None for k in range(COHORTS)]
        cohorts.append(Cohort(month, counts[(month, 0)], cells))
    return cohorts

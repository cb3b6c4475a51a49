"""`marts.campaign_results`: each audience's send measured against its holdout, in data time.

A send is an audience's cohort of one as-of date: the members whose first assignment to the
audience (`activation.assignments`, treatment or holdout, recorded at send time) came on that
run. Intent to treat: a member counts in the group it was first assigned to, whatever happened
later. Their countable orders (`marts.fct_orders`) in the `window_days` after the send date (the
day after it through `send_date + window_days`) are the outcome; the same span before it (through
the send date) is the pre-period revenue of CUPED. One SQL pass gives each group's sufficient
statistics; `mercator.experiments.campaign_result` the lifts, intervals, SRM check and verdicts.
A send whose window has not ended by the warehouse's latest as-of date is marked
`window_complete = false`: its numbers are still growing.

Cost: `cost_per_message` per channel, times the treatment members (one message each).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date

import pandas as pd

from mercator.experiments.lift import GroupStats
from mercator.experiments.result import CampaignResult, campaign_result
from mercator.warehouse import marts_as_of, table_exists

log = logging.getLogger(__name__)

DEFAULT_WINDOW_DAYS = 14
RESULTS = "marts.campaign_results"
SEND_COLUMNS = ("audience", "channel", "send_date", "holdout_share", "window_days", "window_complete")

# Each member's first assignment to each audience, dated by its run's as-of date (intent to treat).
FIRST_ASSIGNMENTS = """
    select audience, customer_key, assignment, channel, holdout_share,
        coalesce(as_of, cast(assigned_at as date)) as send_date
    from activation.assignments
    qualify row_number() over (partition by audience, customer_key order by assigned_at, run_id) = 1
"""

GROUP_SQL = f"""
with first_assignment as ({FIRST_ASSIGNMENTS}),
orders as (
    select customer_key, cast(ordered_at as date) as order_date, net_amount_reporting as amount
    from marts.fct_orders
    where is_countable and customer_key is not null
),
members as (
    select m.audience, m.send_date, m.assignment,
        any_value(m.channel) as channel, any_value(m.holdout_share) as holdout_share,
        count(o.amount) filter (where o.order_date > m.send_date) > 0 as converted,
        coalesce(sum(o.amount) filter (where o.order_date > m.send_date), 0) as y,
        coalesce(sum(o.amount) filter (where o.order_date <= m.send_date), 0) as x
    from first_assignment as m
    left join orders as o
        on o.customer_key = m.customer_key
        and o.order_date > m.send_date - cast($window as integer)
        and o.order_date <= m.send_date + cast($window as integer)
    group by m.audience, m.send_date, m.assignment, m.customer_key
)
select audience, send_date, assignment, any_value(channel) as channel, max(holdout_share) as holdout_share,
    count(*) as members, count(*) filter (where converted) as conversions,
    sum(y) as revenue, sum(y * y) as revenue_sq, sum(x) as pre_revenue, sum(x * x) as pre_revenue_sq,
    sum(x * y) as revenue_x_pre
from members
group by all
order by audience, send_date, assignment
"""


def group_statistics(con, window_days: int = DEFAULT_WINDOW_DAYS) -> pd.DataFrame:
    """One row per audience x send date x group (treatment, holdout) with its sufficient statistics."""
    return con.execute(GROUP_SQL, {"window": window_days}).df()


def _stats(row) -> GroupStats:
    if row is None:
        return GroupStats(0, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
    return GroupStats(
        int(row.members),
        int(row.conversions),
        float(row.revenue),
        float(row.revenue_sq),
        float(row.pre_revenue),
        float(row.pre_revenue_sq),
        float(row.revenue_x_pre),
    )


def measure(
    con, latest_as_of: date | None, cost_per_message: dict[str, float], window_days: int = DEFAULT_WINDOW_DAYS
) -> list[dict]:
    """Every send's result row: the send's columns (SEND_COLUMNS) and CampaignResult's."""
    rows = []
    groups = group_statistics(con, window_days)
    for (audience, send_date), sends in groups.groupby(["audience", "send_date"], sort=True):
        by_group = {row.assignment: row for row in sends.itertuples()}
        treatment, holdout = _stats(by_group.get("treatment")), _stats(by_group.get("holdout"))
        channel, share = sends["channel"].iloc[0], float(sends["holdout_share"].max())
        result: CampaignResult = campaign_result(
            treatment,
            holdout,
            holdout_share=share,
            messages_sent=treatment.members,
            cost_per_message=float(cost_per_message.get(channel, 0.0)),
        )
        send_day = pd.Timestamp(send_date).date()
        complete = latest_as_of is not None and (latest_as_of - send_day).days >= window_days
        rows.append(
            {
                "audience": audience,
                "channel": channel,
                "send_date": send_day,
                "holdout_share": share,
                "window_days": window_days,
                "window_complete": complete,
                **dataclasses.asdict(result),
            }
        )
    return rows


def write_campaign_results(con, cost_per_message: dict[str, float], window_days: int = DEFAULT_WINDOW_DAYS) -> int:
    """Replace `marts.campaign_results` with every send's result; its row count. No assignments yet:
    an empty table of the same columns."""
    if not table_exists(con, "activation.assignments") or not table_exists(con, "marts.fct_orders"):
        rows = []
    else:
        rows = measure(con, marts_as_of(con), cost_per_message, window_days)
    columns = [*SEND_COLUMNS, *(f.name for f in dataclasses.fields(CampaignResult))]
    con.register("campaign_results_frame", pd.DataFrame(rows, columns=columns))
    con.execute("create schema if not exists marts")
    con.execute(f"create or replace table {RESULTS} as select * from campaign_results_frame")
    con.unregister("campaign_results_frame")
    log.info("campaign results: %d sends measured", len(rows))
    return len(rows)

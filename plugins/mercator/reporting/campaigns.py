"""Dashboard section on campaigns: per audience or journey and send date, what was sent, who engaged,
and what the send earned against its holdout; then the total over its send dates.

Each source may be missing (its columns then show a dash; with none of them, the section says so):

- `activation.sync_runs`, dry runs left out: sends and deliveries. A journey's steps, synced as
  `<journey>.<step>`, count under their journey. A sync run's send date is the as-of date its run
  recorded in `activation.assignments`, else the day it started.
- `staging.stg_email__events` by `campaign` (the audience, or `<journey>.<step>`): opens, clicks and
  unsubscribes, as the treated members of each send who did so at least once. A member's send is its
  first assignment, as `marts.campaign_results` counts it; its address is resolved to it through
  `marts.customer_identities`. Recipients who resolve to no treated member are counted apart.
- `marts.campaign_results`: treatment against holdout, lifts with intervals and verdicts.

Above them, each audience's and destination's latest sync run (`collect_syncs`): its status and
counts from members to failures, as activation recorded them.

Aggregates only: no address, phone, name or customer key leaves the SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup

from mercator.experiments.campaigns import FIRST_ASSIGNMENTS, RESULTS
from mercator.reporting.charts import interval_chart
from mercator.warehouse import rows, table_exists

ENGAGEMENT = ("opens", "clicks", "unsubscribes")
EVENT_TABLES = ("staging.stg_email__events", "marts.customer_identities", "activation.assignments")
SUMMED = ("treatment_members", "holdout_members", "treatment_conversions", "holdout_conversions",
          "treatment_revenue", "holdout_revenue", "messages_sent", "cost")

RUN_DATES_SQL = """
    left join (select run_id, max(as_of) as as_of from activation.assignments group by run_id) as r
        on r.run_id = s.run_id"""

SENDS_SQL = """
select split_part(s.audience, '.', 1) as name, {send_date} as send_date,
    sum(s.sent) as sends, sum(s.delivered) as deliveries,
    list(distinct substr(s.audience, strpos(s.audience, '.') + 1)) filter (where strpos(s.audience, '.') > 0)
        as steps
from activation.sync_runs as s{run_dates}
where not s.dry_run
group by all
"""

ENGAGEMENT_SQL = f"""
with first_assignment as ({FIRST_ASSIGNMENTS}),
engaged as (
    select distinct split_part(campaign, '.', 1) as name,
        case when event in ('unsubscribe', 'group_unsubscribe') then 'unsubscribe' else event end as event, email
    from staging.stg_email__events
    where campaign is not null and email is not null
        and event in ('open', 'click', 'unsubscribe', 'group_unsubscribe')
),
matched as (
    select e.name, e.event, e.email, m.send_date, m.customer_key
    from engaged as e
    left join marts.customer_identities as i on i.identifier_type = 'email' and i.identifier_value = e.email
    left join first_assignment as m
        on m.audience = e.name and m.customer_key = i.customer_key and m.assignment = 'treatment'
)
select name, send_date,
    count(distinct customer_key) filter (where event = 'open') as opens,
    count(distinct customer_key) filter (where event = 'click') as clicks,
    count(distinct customer_key) filter (where event = 'unsubscribe') as unsubscribes,
    count(distinct email) as recipients
from matched
group by all
"""


SYNC_COUNTS = ("members", "sent", "delivered", "unchanged", "held_out", "control_group", "capped",
               "unconsented", "suppressed", "failed")
SYNCS_SQL = f"""
select audience, destination, status, reason, cast(started_at as date) as started_on, {", ".join(SYNC_COUNTS)}
from activation.sync_runs
where not dry_run
qualify row_number() over (partition by audience, destination order by started_at desc, run_id desc) = 1
order by audience, destination
"""


def collect_syncs(con) -> list[dict]:
    """The latest sync run (dry runs left out) of each audience and destination."""
    return rows(con, SYNCS_SQL) if table_exists(con, "activation.sync_runs") else []


@dataclass
class Send:
    """One send date's numbers, or (send_date None) the total over a campaign's send dates."""

    send_date: date | None
    sends: int | None = None
    deliveries: int | None = None
    opens: int | None = None
    clicks: int | None = None
    unsubscribes: int | None = None
    result: dict | None = None  # its row of marts.campaign_results; the total: sums and ROI only

    def rate(self, metric: str) -> float | None:
        """Opens, clicks or unsubscribes per delivery."""
        value = getattr(self, metric)
        return value / self.deliveries if value is not None and self.deliveries else None

    def per_member(self, group: str) -> dict | None:
        """Members, conversions, conversion rate and revenue per member of `treatment` or `holdout`."""
        if not self.result or not self.result[f"{group}_members"]:
            return None
        members = self.result[f"{group}_members"]
        conversions, revenue = self.result[f"{group}_conversions"], self.result[f"{group}_revenue"]
        return {"members": members, "conversions": conversions, "rate": conversions / members,
                "revenue_per_member": revenue / members}


@dataclass
class Campaign:
    name: str  # the audience or journey
    channel: str | None = None
    steps: list[str] = field(default_factory=list)  # a journey's steps synced so far
    sends: list[Send] = field(default_factory=list)  # latest send date first
    total: Send = field(default_factory=lambda: Send(None))
    unmatched: int = 0  # recipients who engaged but resolve to no treated member

    @property
    def kind(self) -> str:
        return "journey" if self.steps else "audience"


def collect_campaigns(con) -> list[Campaign]:
    """Every audience and journey with a sync run, a campaign result or an engaged treated member;
    latest send first. Empty when none of the sources exists or holds a row."""
    campaigns: dict[str, Campaign] = {}
    assigned = table_exists(con, "activation.assignments")
    if table_exists(con, "activation.sync_runs"):
        sql = SENDS_SQL.format(
            send_date="coalesce(r.as_of, cast(s.started_at as date))" if assigned else "cast(s.started_at as date)",
            run_dates=RUN_DATES_SQL if assigned else "",
        )
        for row in rows(con, sql):
            found = _send(campaigns, row["name"], row["send_date"])
            found.sends, found.deliveries = _count(row["sends"]), _count(row["deliveries"])
            steps = campaigns[row["name"]].steps
            steps.extend(s for s in row["steps"] or [] if s not in steps)
    if table_exists(con, RESULTS):
        for row in rows(con, f"select * from {RESULTS}"):
            _send(campaigns, row["audience"], row["send_date"]).result = row
            campaigns[row["audience"]].channel = row["channel"]
    if assigned:
        for name, channel in con.execute("select audience, any_value(channel) from activation.assignments group by 1"
                                         ).fetchall():
            if name in campaigns and channel:
                campaigns[name].channel = channel
    if all(table_exists(con, t) for t in EVENT_TABLES):
        _engagement(con, campaigns)
    for campaign in campaigns.values():
        campaign.steps.sort()
        campaign.sends.sort(key=lambda s: s.send_date, reverse=True)
        campaign.total = _total(campaign.sends)
    return sorted(campaigns.values(), key=lambda c: (-c.sends[0].send_date.toordinal(), c.name))


def _send(campaigns: dict[str, Campaign], name: str, send_date: date) -> Send:
    """The campaign's send of that date, added when new."""
    campaign = campaigns.setdefault(name, Campaign(name))
    found = next((s for s in campaign.sends if s.send_date == send_date), None)
    if found is None:
        found = Send(send_date)
        campaign.sends.append(found)
    return found


def _engagement(con, campaigns: dict[str, Campaign]) -> None:
    """Opens, clicks and unsubscribes per send of every email campaign (0 where nobody engaged), and
    the recipients who resolve to no treated member."""
    engaged = rows(con, ENGAGEMENT_SQL)
    for row in (r for r in engaged if r["send_date"] is not None):
        found = _send(campaigns, row["name"], row["send_date"])
        for metric in ENGAGEMENT:
            setattr(found, metric, int(row[metric]))
    for row in (r for r in engaged if r["send_date"] is None and r["name"] in campaigns):
        campaigns[row["name"]].unmatched = int(row["recipients"])
    for campaign in campaigns.values():
        if campaign.channel in (None, "email"):
            for found in campaign.sends:
                for metric in ENGAGEMENT:
                    setattr(found, metric, getattr(found, metric) or 0)


def _count(value) -> int | None:
    return None if value is None else int(value)


def _total(sends: list[Send]) -> Send:
    """Counts and money summed over the send dates; ROI from the sums. Lifts are per send only."""
    total = Send(None)
    for metric in ("sends", "deliveries", *ENGAGEMENT):
        values = [getattr(s, metric) for s in sends if getattr(s, metric) is not None]
        setattr(total, metric, sum(values) if values else None)
    results = [s.result for s in sends if s.result]
    if results:
        total.result = {name: sum(r[name] for r in results) for name in SUMMED}
        increments = [r["incremental_revenue"] for r in results]
        incremental = None if None in increments else sum(increments)
        cost = total.result["cost"]
        total.result["incremental_revenue"] = incremental
        total.result["roi"] = (incremental - cost) / cost if incremental is not None and cost else None
    return total


def lift_chart(campaign: Campaign, send: Send, metric: str) -> Markup:
    """The send's `metric` lift (`conversion_lift`, `revenue_per_member_lift`) and interval, on one
    scale for all the campaign's sends."""
    bounds = [s.result.get(f"{metric}{end}") for s in campaign.sends if s.result for end in ("_low", "_high", "")]
    span = max((abs(v) for v in bounds if v is not None), default=0.0)
    result = send.result or {}
    point, low, high = (result.get(f"{metric}{end}") for end in ("", "_low", "_high"))
    label = f"{campaign.name}, {send.send_date}: {metric.replace('_', ' ')}"
    return interval_chart(point, low, high, span, label)

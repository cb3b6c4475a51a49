"""Who enters a journey on this run: new entry keys judged in SQL, the entered given an instance.

An event journey's candidates are the events of marts.customer_journey_events it has not seen,
up to the run's clock (late events included: what counts is being new to the journey); a segment
journey's are the customers in the segment now who were not at its last run. Each candidate gets
one outcome, the first that applies: `before enrollment` (the journey's first run, enrollment
future), `stale` (an event older than max_age_hours), `unknown customer` (not in dim_customers),
`filtered`, `already active`, `no re-entry`, `cooldown`, `duplicate entry` (a customer's later
candidates of the same run), else `entered`. The entered are assigned at entry (intent to treat):
the global control group, then the journey's holdout, else treatment, recorded in
activation.assignments under the journey's name. The caller holds the transaction.
"""

from __future__ import annotations

from mercator.activation.holdout import ControlGroup, holdout_bucket_sql
from mercator.extract.sql import literal
from mercator.journeys.spec import Journey


def all_of(conditions: list[str]) -> str:
    """SQL: every condition holds (a null counts as false)."""
    return " and ".join(f"coalesce(({c}), false)" for c in conditions) or "true"


def _candidates_sql(journey: Journey, clock: str, as_of: str) -> str:
    name = literal(journey.name)
    if journey.entry.event:
        return f"""
            select e.customer_key, e.event_id as entry_key, cast(e.occurred_at as timestamptz) as entered_at
            from marts.customer_journey_events as e
            where e.event_name = {literal(journey.entry.event)}
                and cast(e.occurred_at as timestamptz) <= timestamptz {literal(clock)}
                and not exists (select 1 from activation.journey_entries as s
                                where s.journey = {name} and s.entry_key = e.event_id)"""
    return f"""
        select m.customer_key, m.customer_key || '@' || {literal(as_of)} as entry_key,
            timestamptz {literal(clock)} as entered_at
        from ({_members_sql(journey)}) as m
        where m.customer_key not in (select customer_key from activation.journey_members where journey = {name})"""


def _members_sql(journey: Journey) -> str:
    """The segment's customers now."""
    segment = journey.entry.segment
    values = ", ".join(literal(v) for v in segment.values)
    return (f"select distinct customer_key from {segment.relation}"
            f" where cast({segment.column} as varchar) in ({values}) and customer_key is not null")


def _judged_sql(journey: Journey, clock: str, first_run: bool) -> str:
    name = literal(journey.name)
    baseline = "true" if first_run and journey.enrollment == "future" else "false"
    stale = "false"
    if journey.entry.max_age_hours:
        seconds = int(journey.entry.max_age_hours * 3600)
        stale = f"k.entered_at < timestamptz {literal(clock)} - interval '{seconds} seconds'"
    if journey.reentry.policy == "cooldown":
        seconds = int(journey.reentry.cooldown_days * 86400)
        reentry = f"when k.entered_at < p.last_entered_at + interval '{seconds} seconds' then 'cooldown'"
    else:
        reentry = "when p.customer_key is not null then 'no re-entry'"
    return f"""
        with previous as (
            select customer_key, max(entered_at) as last_entered_at, bool_or(status = 'active') as active
            from activation.journey_instances where journey = {name} group by 1
        ),
        judged as (
            select k.*,
                case
                    when {baseline} then 'before enrollment'
                    when {stale} then 'stale'
                    when c.customer_key is null then 'unknown customer'
                    when not ({all_of(journey.filters)}) then 'filtered'
                    when p.active then 'already active'
                    {reentry}
                    else 'entered'
                end as outcome
            from journey_candidates as k
            left join marts.dim_customers as c on c.customer_key = k.customer_key
            left join previous as p on p.customer_key = k.customer_key
        )
        select customer_key, entry_key, entered_at,
            case when outcome = 'entered' and row_number() over (
                    partition by customer_key, outcome = 'entered' order by entered_at, entry_key) > 1
                then 'duplicate entry' else outcome end as outcome
        from judged"""


def enter(con, journey: Journey, run_id: str, clock: str, as_of: str, control: ControlGroup) -> tuple[int, int]:
    """Judge this run's candidates and create the entered instances; (candidates, entered)."""
    name = literal(journey.name)
    [(first_run,)] = con.execute("select count(*) = 0 from activation.journey_runs where journey = ?",
                                 [journey.name]).fetchall()
    con.execute(f"create or replace temp table journey_candidates as {_candidates_sql(journey, clock, as_of)}")
    con.execute(f"create or replace temp table journey_judged as {_judged_sql(journey, clock, first_run)}")
    con.execute(f"""insert into activation.journey_entries
        select {name}, entry_key, customer_key, outcome, ? from journey_judged on conflict do nothing""", [run_id])
    control_sql = "false"
    if control.share > 0:
        control_sql = f"{holdout_bucket_sql('customer_key', control.salt)} < {control.share}"
    con.execute(f"""
        create or replace temp table journey_entered as
        select *, case when {control_sql} then 'control' when bucket < {journey.holdout_share} then 'holdout'
                       else 'treatment' end as assignment
        from (select customer_key, entry_key, entered_at, md5({name} || ':' || entry_key) as instance_id,
                  {holdout_bucket_sql('customer_key', journey.salt)} as bucket
              from journey_judged where outcome = 'entered')""")
    con.execute(f"""insert into activation.journey_instances (journey, instance_id, customer_key, entry_key,
            entered_at, entered_as_of, entered_run_id, assignment, status, step_index, step_since, updated_run_id)
        select {name}, instance_id, customer_key, entry_key, entered_at, ?, ?, assignment, 'active', 0,
            entered_at, ?
        from journey_entered on conflict do nothing""", [as_of, run_id, run_id])
    con.execute(f"""insert into activation.journey_steps
        select {name}, instance_id, customer_key, 'entry', 'entered', assignment, ?, timestamptz {literal(clock)}
        from journey_entered on conflict do nothing""", [run_id])
    _record_assignments(con, journey, run_id, as_of)
    if journey.entry.segment:
        con.execute(f"delete from activation.journey_members where journey = {name}")
        members = _members_sql(journey)
        con.execute(f"insert into activation.journey_members select {name}, customer_key from ({members})")
    [(candidates, entered)] = con.execute(
        "select count(*), count(*) filter (where outcome = 'entered') from journey_judged").fetchall()
    return candidates, entered


def _record_assignments(con, journey: Journey, run_id: str, as_of: str) -> None:
    """The entered customers' assignments under the journey's name, when new or changed (as audiences do)."""
    con.execute("""
        insert into activation.assignments
            (run_id, audience, customer_key, assignment, would_send, bucket, as_of, channel, holdout_share)
        with latest as (
            select customer_key, arg_max(assignment, assigned_at) as assignment
            from activation.assignments where audience = $2 group by 1
        )
        select $1, $2, e.customer_key, e.assignment, true, e.bucket, $3, $4, $5
        from journey_entered as e left join latest on latest.customer_key = e.customer_key
        where latest.assignment is distinct from e.assignment
        on conflict do nothing""",
        [run_id, journey.name, as_of, journey.channel, journey.holdout_share])

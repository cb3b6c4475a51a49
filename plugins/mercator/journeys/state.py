"""The journeys' own tables (schema `activation`): keys, times and decisions, never a name or an address.

- `journey_instances`: one row per journey x entry: the customer, when they entered, their
  assignment (treatment, holdout, control), status (active, completed, exited), the step they are
  at and since when, a wait's eligible-at time, messages sent, and how it ended.
- `journey_steps`: the state rows: per instance, step and action (entered, waiting, waited, split,
  sent, skipped, exited, completed) with its reason and the run that wrote it; a rerun writes
  nothing new.
- `journey_entries`: every entry key a journey has seen (an event id, or a customer's entry into
  a segment) and what became of it: entered, or why not (before enrollment, stale, filtered,
  unknown customer, duplicate entry, already active, no re-entry, cooldown).
- `journey_members`: segment journeys' members as of their last run (a transition is a customer
  in the segment now and not then).
- `journey_runs`: one row per run x journey with its counts.
"""

from __future__ import annotations

DDL = (
    "create schema if not exists activation",
    """create table if not exists activation.journey_instances (
        journey varchar not null, instance_id varchar not null, customer_key varchar not null,
        entry_key varchar not null, entered_at timestamptz not null, entered_as_of date,
        entered_run_id varchar not null, assignment varchar not null, status varchar not null,
        step_index integer not null, step_since timestamptz not null, eligible_at timestamptz,
        messages integer not null default 0, ended_at timestamptz, end_reason varchar,
        updated_run_id varchar not null,
        primary key (journey, instance_id))""",
    """create table if not exists activation.journey_steps (
        journey varchar not null, instance_id varchar not null, customer_key varchar not null,
        step varchar not null, action varchar not null, reason varchar, run_id varchar not null,
        written_at timestamptz not null,
        primary key (journey, instance_id, step, action))""",
    """create table if not exists activation.journey_entries (
        journey varchar not null, entry_key varchar not null, customer_key varchar,
        outcome varchar not null, run_id varchar not null,
        primary key (journey, entry_key))""",
    """create table if not exists activation.journey_members (
        journey varchar not null, customer_key varchar not null,
        primary key (journey, customer_key))""",
    """create table if not exists activation.journey_runs (
        run_id varchar not null, journey varchar not null, as_of date, clock timestamptz not null,
        started_at timestamptz not null, ended_at timestamptz,
        candidates bigint, entered bigint, waiting bigint, sent bigint, skipped bigint, exited bigint,
        completed bigint, active bigint,
        primary key (run_id, journey))""",
)

RUN_COUNTS = ("candidates", "entered", "waiting", "sent", "skipped", "exited", "completed", "active")


def ensure(con) -> None:
    for statement in DDL:
        con.execute(statement)

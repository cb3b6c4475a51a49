"""The sync plan in DuckDB SQL: every audience row gets exactly one decision, checked at send time.

Decisions, in order (the first that applies wins):
`invalid` (a duplicate key, a customer not in dim_customers, no valid email / E.164 phone for the
channel), `suppressed` (erased, an opt-out from the event data or the deny seed, or one learned
from a destination), `unconsented` (the channel's consent in dim_customers is not granted),
`control_group` (in the global control group, which no audience reaches), `unchanged` (delivered
before with the same fields: such a member got this very message, whatever the cap says now),
`capped` (message destinations: a message on the channel within the cap window, from any audience
or journey, this run's messages of other audiences included; before the holdout, so that treatment
and holdout are drawn from the same members), `held_out` (holdout bucket below the audience's
share), `held_back`
(a message whose earlier outcome is unknown: never resent blindly), else `send`. Consent and
suppressions are re-read here, right before the batches go out, whatever the audience model did.
"""

from __future__ import annotations

from dataclasses import dataclass

from mercator.activation.audiences import AudienceSpec
from mercator.activation.holdout import NO_CONTROL, ControlGroup, holdout_bucket_sql
from mercator.warehouse import columns, table_exists

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^\+[1-9][0-9]{7,14}$"
SUPPRESSIONS = "intermediate.int_contact_suppressions"
ERASURES = "intermediate.int_erasure_requests"


@dataclass(frozen=True)
class PlanInputs:
    spec: AudienceSpec
    destination: str
    delivers_messages: bool
    cap_days: int | None
    run_id: str
    now: str  # ISO timestamp of the run's clock: cap windows count back from it, messages are sent at it
    control: ControlGroup = NO_CONTROL
    keep_decisions: bool = False  # also write every member's decision to activation.sync_decisions


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _message_channel(spec: AudienceSpec) -> str | None:
    """The channel whose suppressions apply, when it has any (email, sms)."""
    return spec.message_channel if spec.message_channel in ("email", "sms") else None


def _identifier_checks(spec: AudienceSpec) -> tuple[str, str | None]:
    """SQL: (has a valid identifier for the channel, the identifier matched against suppressions)."""
    email = f"regexp_matches(coalesce(m.f_email, ''), {_quote(EMAIL_PATTERN)})" if "email" in spec.fields else None
    phone = f"regexp_matches(coalesce(m.f_phone, ''), {_quote(PHONE_PATTERN)})" if "phone" in spec.fields else None
    if spec.channel == "ads":
        return f"({email or 'false'} or {phone or 'false'})", None
    channel = _message_channel(spec)
    if channel == "email" and email:
        return (email if spec.channel == "email" else f"(m.f_email is null or {email})"), "lower(trim(m.f_email))"
    if channel == "sms" and phone:
        return (phone if spec.channel == "sms" else f"(m.f_phone is null or {phone})"), "m.f_phone"
    return "true", None


def plan_sql(con, inputs: PlanInputs) -> str:
    """A query with one row per audience row: customer_key, f_<field> columns, payload_hash, bucket,
    decision, reason, remote_id."""
    spec = inputs.spec
    fields = ", ".join(f"cast(a.{column} as varchar) as f_{name}" for name, column in spec.fields.items())
    hashed = " || chr(31) || ".join(f"coalesce(f_{name}, '')" for name in spec.fields) or "''"
    customer_columns = columns(con, "marts.dim_customers")
    erased = "c.is_erased" if "is_erased" in customer_columns else "false"
    consent = f"c.{spec.consent}" if spec.consent in customer_columns else "'unknown'"
    valid, identifier = _identifier_checks(spec)
    checks = []
    if table_exists(con, ERASURES):
        checks.append(f"m.customer_key in (select customer_key from {ERASURES})")
    suppression_channel = _message_channel(spec) if identifier else None
    if suppression_channel and table_exists(con, SUPPRESSIONS):
        checks.append(
            f"{identifier} in (select identifier_value from {SUPPRESSIONS} where channel = '{suppression_channel}')"
        )
    if suppression_channel:
        checks.append(
            f"sha256({identifier}) in (select identifier_hash from activation.suppressions"
            f" where channel = '{suppression_channel}')"
        )
    learned = " or ".join(checks) or "false"
    capped = "false"
    if inputs.delivers_messages and inputs.cap_days:
        capped = (
            f"m.customer_key in (select customer_key from activation.messages"
            f" where channel = {_quote(spec.message_channel)}"
            f" and (run_id <> {_quote(inputs.run_id)} or audience <> {_quote(spec.name)})"
            f" and sent_at > timestamptz {_quote(inputs.now)} - interval {int(inputs.cap_days)} day)"
        )
    unknown = "s.status = 'unknown'" if inputs.delivers_messages else "false"
    control = "false"
    if inputs.control.share > 0:
        control = f"{holdout_bucket_sql('m.customer_key', inputs.control.salt)} < {inputs.control.share}"
    return f"""
        with members as (
            select a.customer_key, {fields},
                row_number() over (partition by a.customer_key order by a.customer_key) as key_rank
            from {spec.relation} as a
        ),
        hashed as (
            select m.*, md5({hashed}) as payload_hash,
                {holdout_bucket_sql("m.customer_key", spec.holdout_salt)} as bucket
            from members as m
        )
        select m.* exclude (key_rank), s.remote_id,
            case
                when m.customer_key is null or m.key_rank > 1 or c.customer_key is null then 'invalid'
                when {erased} or {learned} then 'suppressed'
                when coalesce({consent}, 'unknown') <> 'granted' then 'unconsented'
                when not {valid} then 'invalid'
                when {control} then 'control_group'
                when s.status = 'delivered' and s.payload_hash = m.payload_hash then 'unchanged'
                when {capped} then 'capped'
                when m.bucket < {spec.holdout_share} then 'held_out'
                when {unknown} then 'held_back'
                else 'send'
            end as decision,
            case
                when m.customer_key is null then 'no customer_key'
                when m.key_rank > 1 then 'duplicate customer_key in the audience'
                when c.customer_key is null then 'not in dim_customers'
                when {erased} then 'erasure requested'
                when not {valid} then 'no valid {spec.identifier or "identifier"}'
                else ''
            end as reason
        from hashed as m
        left join marts.dim_customers as c on c.customer_key = m.customer_key and m.key_rank = 1
        left join activation.sync_state as s
            on s.destination = {_quote(inputs.destination)} and s.audience = {_quote(spec.name)}
            and s.customer_key = m.customer_key and m.key_rank = 1
    """



def removals_sql(inputs: PlanInputs, plan_table: str) -> str:
    """Members Mercator added earlier that must leave now (mirror mode): gone from the audience,
    or no longer sendable (unconsented, suppressed, erased, invalid)."""
    return f"""
        select s.customer_key, s.remote_id, s.payload_hash
        from activation.sync_state as s
        where s.destination = {_quote(inputs.destination)} and s.audience = {_quote(inputs.spec.name)}
            and s.status = 'delivered' and s.added_by_mercator
            and not exists (
                select 1 from {plan_table} as p
                where p.customer_key = s.customer_key and p.decision in ('send', 'unchanged', 'held_back')
            )
    """


IDENTITIES = "marts.customer_identities"
ERASED_IDENTIFIERS = "intermediate.int_erased_identifiers"
IDENTIFIER_KINDS = ("email", "phone")


def identifiers_sql(con, keys: str, kind: str, plan_table: str | None = None) -> str:
    """(customer_key, value): every `kind` identifier (email or phone, normalised) the warehouse knows
    each customer of `keys` by, the likeliest first: its audience row in the plan, dim_customers,
    customer_identities, its erasure requests and the identifiers they erased (`plan_table`: a plan
    holding f_<kind>). For removals and erasures, whose members carry no fields of their own."""
    if kind not in IDENTIFIER_KINDS:
        raise ValueError(f"unknown identifier kind {kind!r}")
    sources = []
    if plan_table:
        sources.append(f"select customer_key, f_{kind}, 0 from {plan_table}")
    if kind in columns(con, "marts.dim_customers"):
        sources.append(f"select customer_key, {kind}, 1 from marts.dim_customers")
    if table_exists(con, IDENTITIES):
        sources.append(f"select customer_key, identifier_value, 2 from {IDENTITIES} where identifier_type = '{kind}'")
    erasure_columns = columns(con, ERASURES)
    if {"identifier_type", "identifier_value"} <= erasure_columns:
        sources.append(f"select customer_key, identifier_value, 3 from {ERASURES} where identifier_type = '{kind}'")
    if "request_id" in erasure_columns and table_exists(con, ERASED_IDENTIFIERS):
        sources.append(f"select e.customer_key, i.identifier_value, 4 from {ERASURES} as e"
                       f" join {ERASED_IDENTIFIERS} as i on i.request_id = e.request_id"
                       f" where i.identifier_type = '{kind}'")
    if not sources:
        return "select null as customer_key, null as value where false"
    normal = "lower(trim(x.value))" if kind == "email" else "trim(x.value)"
    return f"""
        select k.customer_key, {normal} as value
        from {keys} as k join ({" union all ".join(sources)}) as x (customer_key, value, priority)
            on x.customer_key = k.customer_key
        where x.value is not null
        group by 1, 2
        order by 1, min(x.priority), 2
    """

"""The sync engine: one audience to one destination, planned in SQL, sent in batches, every member accounted.

Each step that touches the warehouse opens it briefly (`open_warehouse`) and closes it before any
request goes out, so HTTP waits never hold DuckDB's single writer:

0. closed loop: the opt-outs the destination recorded since the last pull (unsubscribes, bounces,
   spam reports) join `activation.suppressions`; people with an erasure request are erased at the
   destination, which is handed every email and phone the warehouse knows them by (their state
   keeps no payload hash or destination id);
1. plan (mercator.activation.plan): one decision per audience row; new holdout assignments are
   recorded (intent to treat: a member's first, or one that changed);
2. members held back by an earlier unknown outcome are reconciled with the destination;
3. send the `send` members in batches of the destination's size and record each batch's outcomes;
   for message destinations, each request is journaled before and after (mercator.activation.
   journal), so a crash loses no answer and leaves at most the request in flight `unknown`, which
   the next run holds back and reconciles instead of sending twice;
4. mirror mode: remove the members Mercator added who left or may no longer be contacted;
5. one `activation.sync_runs` row with every count: members = sent + unchanged + held_out +
   control_group + capped + unconsented + suppressed + invalid + held_back; sent = delivered + rejected + opted_out +
   unknown + failed; reconciled and removed are counted apart.

A sync whose rejected members exceed `MAX_REJECTED_SHARE` of those sent fails (after recording).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from mercator.activation.audiences import AudienceSpec
from mercator.activation.destination import DELIVERED, SUPPRESSED, UNKNOWN, Destination, Member, Outcome
from mercator.activation.holdout import NO_CONTROL, ControlGroup
from mercator.activation.journal import Journal
from mercator.activation.plan import ERASURES, IDENTIFIER_KINDS, PlanInputs, identifiers_sql, plan_sql, removals_sql
from mercator.activation.state import COUNTS, ensure, identifier_hash
from mercator.gc_control import gc_frozen, gc_paused
from mercator.warehouse import marts_as_of, table_exists

log = logging.getLogger(__name__)

MAX_REJECTED_SHARE = 0.05
DECISION_COUNTS = (
    "unchanged", "held_out", "control_group", "capped", "unconsented", "suppressed", "invalid", "held_back",
)


class SyncFailed(RuntimeError):
    """The sync ran and was recorded, but too many members were rejected."""


@dataclass
class SyncResult:
    audience: str
    destination: str
    run_id: str
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    reason: str = ""

    def summary(self) -> dict:
        return {"audience": self.audience, "destination": self.destination, "status": self.status,
                **self.counts, **({"reason": self.reason} if self.reason else {})}


OpenWarehouse = Callable[[], AbstractContextManager]


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class _Plan:
    to_send: list[Member]
    held_back: list[Member]
    removals: list[Member]
    decisions: Counter


def _members(con, spec: AudienceSpec, decision: str) -> list[Member]:
    names = list(spec.fields)
    columns = "".join(f", f_{name}" for name in names)
    with gc_paused():  # fetched by column: DuckDB builds one Python list per column faster than tuples
        found = con.execute(
            f"select customer_key, payload_hash, remote_id{columns} from sync_plan where decision = ? order by 1",
            [decision],
        ).fetchnumpy()
        keys, hashes, remote_ids, *values = (column.tolist() for column in found.values())
        rows = zip(*values, strict=True) if values else [()] * len(keys)
        return [Member(key, dict(zip(names, row, strict=True)), digest, remote_id)
                for key, digest, remote_id, row in zip(keys, hashes, remote_ids, rows, strict=True)]


def _with_identifiers(con, members: list[Member], kinds: tuple[str, ...], plan_table: str | None = None,
                      every: bool = False) -> list[Member]:
    """The members without a destination id (`every`: all) given every identifier of these kinds the
    warehouse knows them by (plan.identifiers_sql): `emails` and `phones` lists, the likeliest first,
    and that one as `email` and `phone`."""
    wanted = [m.customer_key for m in members if every or not m.remote_id]
    if not wanted:
        return members
    found: dict[str, dict[str, list[str]]] = {key: {} for key in wanted}  # key -> kind -> values
    con.register("identifier_keys", pd.DataFrame({"customer_key": wanted}))
    try:
        for kind in kinds:
            for key, value in con.execute(identifiers_sql(con, "identifier_keys", kind, plan_table)).fetchall():
                found[key].setdefault(kind, []).append(value)
    finally:
        con.unregister("identifier_keys")
    fields = {key: {**{f"{kind}s": values for kind, values in known.items()},
                    **{kind: values[0] for kind, values in known.items()}} for key, known in found.items()}
    return [Member(m.customer_key, fields[m.customer_key], m.payload_hash, m.remote_id)
            if m.customer_key in fields else m for m in members]


def _plan(con, inputs: PlanInputs, mirror: bool, by_email: bool) -> _Plan:
    """Decisions into a temporary table; the members to send, to reconcile and to remove (`by_email`:
    with their addresses when no id is known), and the counts."""
    con.execute(f"create or replace temp table sync_plan as {plan_sql(con, inputs)}")
    decisions = Counter(dict(con.execute("select decision, count(*) from sync_plan group by 1").fetchall()))
    if inputs.keep_decisions:
        _keep_decisions(con, inputs)
    removals = []
    if mirror:
        removals = [Member(key, {}, digest, remote) for key, remote, digest in
                    con.execute(removals_sql(inputs, "sync_plan")).fetchall()]
        if by_email:
            removals = _with_identifiers(con, removals, ("email",), "sync_plan")
    return _Plan(_members(con, inputs.spec, "send"), _members(con, inputs.spec, "held_back"), removals, decisions)


def _keep_decisions(con, inputs: PlanInputs) -> None:
    """Every member's decision and reason in activation.sync_decisions (this run's rows replaced)."""
    where = "run_id = ? and audience = ? and destination = ?"
    keys = [inputs.run_id, inputs.spec.name, inputs.destination]
    con.execute(f"delete from activation.sync_decisions where {where}", keys)
    con.execute("insert into activation.sync_decisions select ?, ?, ?, customer_key, decision, reason from sync_plan"
                " where customer_key is not null on conflict do nothing", keys)


def _record_assignments(con, inputs: PlanInputs) -> None:
    """The treatment / holdout split of every member who passed consent, suppression and caps, recorded
    when it is new: a member's first assignment to the audience, or one that differs from its latest
    (a changed holdout share or salt). The bucket is deterministic, so the rows of earlier runs already
    say what this run would write again; a rerun of the same run id rewrites that run's rows."""
    con.execute(
        "delete from activation.assignments where run_id = ? and audience = ?", [inputs.run_id, inputs.spec.name]
    )
    con.execute(
        """insert into activation.assignments
               (run_id, audience, customer_key, assignment, would_send, bucket, as_of, channel, holdout_share)
           with latest as (
               select customer_key, arg_max(assignment, assigned_at) as assignment
               from activation.assignments where audience = $2 group by 1
           ),
           split as (
               select customer_key, bucket,
                   case decision when 'held_out' then 'holdout' when 'control_group' then 'control'
                       else 'treatment' end as assignment
               from sync_plan
               where decision in ('held_out', 'control_group', 'send', 'unchanged', 'held_back')
           )
           select $1, $2, split.customer_key, split.assignment, true, split.bucket, $3, $4, $5
           from split left join latest on latest.customer_key = split.customer_key
           where latest.assignment is distinct from split.assignment
           on conflict do nothing""",
        [inputs.run_id, inputs.spec.name, marts_as_of(con), inputs.spec.channel, inputs.spec.holdout_share],
    )


def _over_frame(con, statement: str, frame: pd.DataFrame, params: list | None = None) -> None:
    """Run `statement` (an INSERT ... SELECT or UPDATE ... FROM `batch_rows`) as one scan of a pandas
    frame (nothing when it is empty): executemany runs one statement per row, about 9 ms each on a
    warehouse file, and refuses an empty list."""
    if frame.empty:
        return
    con.register("batch_rows", frame)
    try:
        con.execute(statement, params)
    finally:
        con.unregister("batch_rows")


def _insert_rows(con, statement: str, columns: tuple[str, ...], rows: list[list]) -> None:
    """`_over_frame` over these rows."""
    _over_frame(con, statement, pd.DataFrame(rows, columns=list(columns)))


def _write_state(con, inputs: PlanInputs, members: list[Member], outcomes: dict[str, Outcome]) -> None:
    """Upsert sync_state for these members with each one's outcome (built by column: one list per field)."""
    chosen = [outcomes[m.customer_key] for m in members]
    frame = pd.DataFrame({
        "customer_key": [m.customer_key for m in members], "payload_hash": [m.payload_hash for m in members],
        "status": [o.status for o in chosen], "reason": [o.reason for o in chosen],
        "remote_id": [o.remote_id or m.remote_id for o, m in zip(chosen, members, strict=True)],
    })
    _over_frame(
        con,
        """insert or replace into activation.sync_state
           (destination, audience, customer_key, payload_hash, status, reason, remote_id, added_by_mercator,
            run_id, updated_at)
           select ?, ?, customer_key, payload_hash, status, reason, remote_id, true, ?, current_timestamp
           from batch_rows""",
        frame,
        [inputs.destination, inputs.spec.name, inputs.run_id],
    )


def _record_outcomes(con, inputs: PlanInputs, members: list[Member], outcomes: list[Outcome]) -> None:
    by_key = {o.customer_key: o for o in outcomes}
    missing = [m.customer_key for m in members if m.customer_key not in by_key]
    if missing:
        raise RuntimeError(f"{inputs.destination} returned no outcome for {len(missing)} member(s)")
    _write_state(con, inputs, members, by_key)
    delivered = [o for o in outcomes if o.status == DELIVERED]
    if inputs.delivers_messages:
        _insert_rows(
            con,
            "insert into activation.messages select * from batch_rows",
            ("channel", "customer_key", "audience", "destination", "run_id", "remote_id", "sent_at"),
            [[inputs.spec.message_channel, o.customer_key, inputs.spec.name, inputs.destination, inputs.run_id,
              o.remote_id, inputs.now] for o in delivered],
        )
    identifier = inputs.spec.identifier
    for member in members:
        outcome = by_key[member.customer_key]
        if outcome.status == SUPPRESSED and identifier and member.fields.get(identifier):
            con.execute(
                "insert or replace into activation.suppressions values (?, ?, ?, ?, ?)",
                [inputs.spec.message_channel,
                 identifier_hash(member.fields[identifier]), outcome.reason or "opted out at the destination",
                 inputs.destination, _now()],
            )


def _keep_ids(con, inputs: PlanInputs, members: list[Member], outcomes: list[Outcome], audience: str | None) -> None:
    """Keep the destination ids found for these members (looked up once, used by later removals)."""
    known = {m.customer_key: m.remote_id for m in members}
    found = {key: remote_id for key, remote_id in {o.customer_key: o.remote_id for o in outcomes if o.remote_id}.items()
             if remote_id != known.get(key)}
    _over_frame(
        con,
        "update activation.sync_state as s set remote_id = b.remote_id from batch_rows as b"
        " where s.destination = ? and s.customer_key = b.customer_key and (? is null or s.audience = ?)",
        pd.DataFrame({"customer_key": list(found), "remote_id": list(found.values())}),
        [inputs.destination, audience, audience],
    )


def _record_removals(con, inputs: PlanInputs, members: list[Member], outcomes: list[Outcome]) -> int:
    _keep_ids(con, inputs, members, outcomes, inputs.spec.name)
    removed = {o.customer_key for o in outcomes if o.status == DELIVERED}
    _insert_rows(
        con,
        "update activation.sync_state as s set status = 'removed', run_id = b.run_id, updated_at = current_timestamp"
        " from batch_rows as b where s.destination = b.destination and s.audience = b.audience"
        " and s.customer_key = b.customer_key",
        ("run_id", "destination", "audience", "customer_key"),
        [[inputs.run_id, inputs.destination, inputs.spec.name, key] for key in removed],
    )
    return len(removed)


def _write_run(con, inputs: PlanInputs, result: SyncResult, started_at: str, dry_run: bool) -> None:
    con.execute(
        "delete from activation.sync_runs where run_id = ? and audience = ? and destination = ?",
        [inputs.run_id, inputs.spec.name, inputs.destination],
    )
    con.execute(
        f"""insert into activation.sync_runs (run_id, audience, destination, status, reason, dry_run, started_at,
            ended_at, {", ".join(COUNTS)}) values ({", ".join("?" * (8 + len(COUNTS)))})""",
        [inputs.run_id, inputs.spec.name, inputs.destination, result.status, result.reason, dry_run, started_at,
         _now(), *(result.counts.get(name, 0) for name in COUNTS)],
    )


def _pull_suppressions(open_warehouse: OpenWarehouse, inputs: PlanInputs, destination: Destination) -> int:
    """Record the destination's opt-outs since the last pull from it; how many were new."""
    with open_warehouse() as con:
        [(since,)] = con.execute(
            "select max(occurred_at) from activation.suppressions where source = ?", [inputs.destination]
        ).fetchall()
    learned = destination.suppressions(since.isoformat() if since else None)
    if not learned:
        return 0
    with open_warehouse() as con:
        con.executemany(
            "insert or replace into activation.suppressions values (?, ?, ?, ?, ?)",
            [["email" if s.identifier_type == "email" else "sms", identifier_hash(s.identifier_value), s.reason,
              inputs.destination, s.occurred_at] for s in learned],
        )
    return len(learned)


def _erase(open_warehouse: OpenWarehouse, inputs: PlanInputs, destination: Destination) -> int:
    """Erase at the destination the people with an erasure request that it holds; how many."""
    with open_warehouse() as con:
        if not table_exists(con, ERASURES):
            return 0
        rows = con.execute(
            f"""select s.customer_key, s.payload_hash, s.remote_id from activation.sync_state as s
                where s.destination = ? and s.status <> 'erased'
                  and exists (select 1 from {ERASURES} as e where e.customer_key = s.customer_key)""",
            [inputs.destination],
        ).fetchall()
    members = [Member(key, {}, digest, remote) for key, digest, remote in rows]
    if not members:
        return 0
    with open_warehouse() as con:  # every identifier, even with an id kept: it may be stale
        members = _with_identifiers(con, members, IDENTIFIER_KINDS, every=True)
    try:
        outcomes = destination.erase(members)
    except NotImplementedError:  # files and messages hold nothing to delete: later sends exclude them
        outcomes = [Outcome(m.customer_key, DELIVERED) for m in members]
    erased = [o.customer_key for o in outcomes if o.status == DELIVERED]
    with open_warehouse() as con:
        _keep_ids(con, inputs, members, [o for o in outcomes if o.status != DELIVERED], None)
        _insert_rows(
            con,
            "update activation.sync_state as s set status = 'erased', payload_hash = null, remote_id = null,"
            " reason = 'erasure request', run_id = b.run_id, updated_at = current_timestamp"
            " from batch_rows as b where s.destination = b.destination and s.customer_key = b.customer_key",
            ("run_id", "destination", "customer_key"),
            [[inputs.run_id, inputs.destination, key] for key in dict.fromkeys(erased)],
        )
    return len(erased)


RECORD_EVERY = 500  # message destinations: members between two records in the warehouse (the journal covers them)


def _replay(open_warehouse: OpenWarehouse, inputs: PlanInputs, journal: Journal | None) -> None:
    """Record what an interrupted sync's journal holds: answers as answered, unanswered as unknown."""
    if journal is None:
        return
    entries = journal.unrecorded()
    if entries:
        with open_warehouse() as con:
            _record_outcomes(con, inputs, [m for m, _ in entries], [o for _, o in entries])
    journal.clear()


def _deliver(open_warehouse: OpenWarehouse, inputs: PlanInputs, destination: Destination, members, send,
             journal: Journal | None) -> Counter:
    """`send` (upsert or reconcile) in calls of the destination's batch size; recorded per batch, or for
    message destinations journaled per request and recorded every RECORD_EVERY members."""
    outcomes: Counter = Counter()
    step = destination.max_batch if journal is None else max(destination.max_batch, RECORD_EVERY)
    per_call = destination.max_batch if journal is None else destination.members_per_request
    for start in range(0, len(members), step):
        batch = members[start : start + step]
        batch_outcomes: list[Outcome] = []
        for first in range(0, len(batch), per_call):
            call = batch[first : first + per_call]
            if journal is not None:
                journal.sending(call)
            answers = send(inputs.spec.name, call, inputs.run_id)
            if journal is not None:
                journal.answered(call, answers)
            batch_outcomes += answers
        with open_warehouse() as con:
            _record_outcomes(con, inputs, batch, batch_outcomes)
        if journal is not None:
            journal.clear()
        outcomes.update(o.status for o in batch_outcomes)
    return outcomes


def sync_audience(
    open_warehouse: OpenWarehouse,
    spec: AudienceSpec,
    destination_id: str,
    destination: Destination,
    run_id: str,
    cap_days: int | None = None,
    dry_run: bool = False,
    journal: Journal | None = None,
    control: ControlGroup = NO_CONTROL,
    now: str | None = None,
    keep_decisions: bool = False,
) -> SyncResult:
    """Sync one audience to one destination (see the module docstring); a dry run plans and records only.

    A destination that delivers messages needs a `journal` (see mercator.activation.journal). `now`: the
    run's clock (ISO), which cap windows count back from and messages are recorded at (default: the
    wall clock); `keep_decisions`: keep each member's decision in activation.sync_decisions for the caller
    (a journey's send step), which owns the holdout assignment: none is recorded here."""
    if destination.delivers_messages and journal is None:
        raise ValueError(f"{destination_id} delivers messages: the sync needs a journal")
    journal = journal if destination.delivers_messages else None
    started_at = _now()
    inputs = PlanInputs(spec, destination_id, destination.delivers_messages, cap_days, run_id, now or started_at,
                        control, keep_decisions)
    with open_warehouse() as con:
        ensure(con)
    if not dry_run:
        _replay(open_warehouse, inputs, journal)
    erased = 0
    if not dry_run:
        _pull_suppressions(open_warehouse, inputs, destination)
        erased = _erase(open_warehouse, inputs, destination)
    with open_warehouse() as con:
        plan = _plan(con, inputs, spec.mode == "mirror",
                     not dry_run and destination.finds_contacts_by_email)
        if not dry_run and not keep_decisions:  # a journey's step: the journey assigned its members at entry
            _record_assignments(con, inputs)
    counts = {"members": sum(plan.decisions.values()), "sent": len(plan.to_send),
              **{name: plan.decisions.get(name, 0) for name in DECISION_COUNTS}}
    result = SyncResult(spec.name, destination_id, run_id, "dry_run" if dry_run else "succeeded", counts)
    if dry_run:
        counts["removed"] = len(plan.removals)
    else:
        destination.prepare(spec.name)
        with gc_frozen():
            reconciled = _deliver(open_warehouse, inputs, destination, plan.held_back, destination.reconcile,
                                  journal)
            outcomes = _deliver(open_warehouse, inputs, destination, plan.to_send, destination.upsert, journal)
            removed = 0
            for start in range(0, len(plan.removals), destination.max_batch):
                batch = plan.removals[start : start + destination.max_batch]
                removal_outcomes = destination.remove(spec.name, batch, run_id)
                with open_warehouse() as con:
                    removed += _record_removals(con, inputs, batch, removal_outcomes)
        counts |= {"delivered": outcomes[DELIVERED], "rejected": outcomes["rejected"],
                   "opted_out": outcomes[SUPPRESSED], "unknown": outcomes[UNKNOWN], "failed": outcomes["failed"],
                   "reconciled": reconciled[DELIVERED], "removed": removed, "erased": erased}
        if plan.to_send and counts["rejected"] > MAX_REJECTED_SHARE * len(plan.to_send):
            result.status = "failed"
            result.reason = (f"{counts['rejected']} of {len(plan.to_send)} sent members rejected"
                             f" (> {MAX_REJECTED_SHARE:.0%})")
    with open_warehouse() as con:
        _write_run(con, inputs, result, started_at, dry_run)
    log.info("activation %s -> %s: %s %s", spec.name, destination_id, result.status, counts)
    if result.status == "failed":
        raise SyncFailed(f"audience {spec.name} -> {destination_id}: {result.reason}")
    return result

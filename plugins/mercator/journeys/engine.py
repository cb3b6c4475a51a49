"""One daily evaluation of every journey, in data time (the run's clock: the end of the as-of day).

Per journey: new entries (mercator.journeys.entries), then each step in order over the active
instances standing at it, so an instance moves as far as the clock lets it in one run:

- the exit conditions are checked first at every step (an order since entry for `purchased`, SQL
  conditions), so a buyer is never sent a cart reminder however late the order's data arrived;
- `wait`: the instance gets an eligible-at time (arrival at the step + the wait) and moves on once
  the clock reaches it, on this run or a later one;
- `split`: moves to the step its condition names;
- `send`: holdout and control instances are skipped (their would-have-been message recorded);
  the others become the rows of a due table synced by activation (`<journey>.<step>` audience:
  consent, suppressions, frequency caps across journeys and audiences, journaled sends). Each
  member's decision and outcome becomes a state row: sent, skipped with its reason, or pending
  (an unknown outcome, held back and reconciled by the next run: never sent twice).

The state changes between two sends commit together (a crash leaves the previous stretch's state).
A rerun of the same day finds nothing new to do: entries are judged once, each state row is keyed
by instance, step and action, and a message already delivered with the same instance is `unchanged`.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mercator.activation import state as activation_state
from mercator.activation.holdout import NO_CONTROL, ControlGroup
from mercator.activation.runner import known_types, plan_tasks, run_task
from mercator.activation.sync import OpenWarehouse
from mercator.extract.sql import literal
from mercator.journeys import state
from mercator.journeys.entries import all_of, enter
from mercator.journeys.spec import DUE_SCHEMA, Journey, Step
from mercator.warehouse import marts_as_of, run_clock

log = logging.getLogger(__name__)

# a sync decision (and the destination's outcome of a send) -> the step's action and reason
SKIP_REASONS = {"unconsented": "consent", "suppressed": "suppression", "capped": "frequency cap",
                "control_group": "control group", "held_out": "holdout"}


@dataclass(frozen=True)
class JourneyRun:
    """What one evaluation needs: the run, where sends are journaled and files written, caps, control."""

    run_id: str
    reports_dir: Path
    journal_dir: Path
    caps: dict[str, int]
    control: ControlGroup = NO_CONTROL


def _active(journey: Journey, index: int, customers: bool = False) -> str:
    """FROM clause: the journey's active instances `i` at step `index` (with their customer `c`)."""
    joined = " left join marts.dim_customers as c on c.customer_key = i.customer_key" if customers else ""
    return (f"activation.journey_instances as i{joined} where i.journey = {literal(journey.name)}"
            f" and i.status = 'active' and i.step_index = {index}")


class _Evaluation:
    """One journey on one run: SQL over a connection, state rows stamped with the run and its clock."""

    def __init__(self, journey: Journey, run: JourneyRun, clock: str) -> None:
        self.journey, self.run, self.clock = journey, run, clock
        self.now = f"timestamptz {literal(clock)}"

    def log(self, con, where: str, step: str, action: str, reason: str) -> None:
        """A state row per instance selected by `where` (a FROM clause over instances `i`)."""
        con.execute(f"""insert into activation.journey_steps
            select i.journey, i.instance_id, i.customer_key, ?, ?, {reason}, ?, {self.now}
            from {where} on conflict do nothing""", [step, action, self.run.run_id])

    def move(self, con, where: str, to_index: int, since: str) -> None:
        """Move the selected instances to a step (past the last: completed)."""
        ids = f"select i.instance_id from {where}"
        con.execute(f"""update activation.journey_instances as i set step_index = {to_index}, step_since = {since},
                eligible_at = null, updated_run_id = ?
            where i.journey = ? and i.instance_id in ({ids})""", [self.run.run_id, self.journey.name])

    def exits(self, con, index: int, step: Step) -> None:
        conditions = [("exists (select 1 from marts.fct_orders as o where o.customer_key = i.customer_key"
                       " and cast(o.ordered_at as timestamptz) >= i.entered_at)", "'purchased'")] \
            if self.journey.exit.purchased else []
        conditions += [(f"coalesce(({c}), false)", literal(f"exit condition: {c}")) for c in self.journey.exit.when]
        if not conditions:
            return
        reason = "case " + " ".join(f"when {c} then {r}" for c, r in conditions) + " end"
        con.execute(f"""create or replace temp table journey_exiting as
            select i.instance_id, {reason} as reason from {_active(self.journey, index, customers=True)}
                and ({" or ".join(c for c, _ in conditions)})""")
        where = f"activation.journey_instances as i join journey_exiting as x using (instance_id)" \
                f" where i.journey = {literal(self.journey.name)}"
        self.log(con, where, step.id, "exited", "x.reason")
        con.execute(f"""update activation.journey_instances as i set status = 'exited', end_reason = x.reason,
                ended_at = {self.now}, updated_run_id = ?
            from journey_exiting as x where i.journey = ? and i.instance_id = x.instance_id""",
                    [self.run.run_id, self.journey.name])

    def wait(self, con, index: int, step: Step) -> None:
        seconds = int(step.wait.hours_total * 3600)
        con.execute(f"""update activation.journey_instances as i
            set eligible_at = step_since + interval '{seconds} seconds', updated_run_id = ?
            where i.journey = ? and i.status = 'active' and i.step_index = ? and i.eligible_at is null""",
                    [self.run.run_id, self.journey.name, index])
        until = "'until ' || strftime(i.eligible_at, '%Y-%m-%dT%H:%M:%SZ')"
        self.log(con, _active(self.journey, index), step.id, "waiting", until)
        ready = f"{_active(self.journey, index)} and i.eligible_at <= {self.now}"
        self.log(con, ready, step.id, "waited", "null")
        self.move(con, ready, self.journey.following(index), "i.eligible_at")

    def split(self, con, index: int, step: Step) -> None:
        con.execute(f"create or replace temp table journey_split as"
                    f" select i.instance_id, {all_of([step.split.when])} as taken"
                    f" from {_active(self.journey, index, customers=True)}")
        for branch, target, taken in (("then", step.split.then, "s.taken"), ("else", step.split.otherwise,
                                                                           "not s.taken")):
            where = (f"activation.journey_instances as i join journey_split as s using (instance_id)"
                     f" where i.journey = {literal(self.journey.name)} and {taken}")
            self.log(con, where, step.id, "split", literal(f"{branch}: {target}"))
            self.move(con, where, self.journey.index(target), "i.step_since")

    def skip_unsendable(self, con, index: int, step: Step) -> None:
        """Holdout and control instances, and those at the journey's message cap: skipped, moved on."""
        cap = f"i.messages >= {self.journey.max_messages}" if self.journey.max_messages else "false"
        where = f"{_active(self.journey, index)} and (i.assignment <> 'treatment' or {cap})"
        reason = ("case i.assignment when 'holdout' then 'holdout' when 'control' then 'control group'"
                  " else 'journey message cap' end")
        self.log(con, where, step.id, "skipped", reason)
        self.move(con, where, self.journey.following(index), self.now)

    def due(self, con, index: int, step: Step) -> int:
        """The due table of a send step: its instances with their customer's columns; how many rows."""
        relation = self.journey.due_relation(step)
        con.execute(f"create schema if not exists {DUE_SCHEMA}")
        con.execute(f"""create or replace table {relation} as
            select i.customer_key, i.instance_id, i.entered_at, c.* exclude (customer_key)
            from {_active(self.journey, index, customers=True)}""")
        return con.execute(f"select count(*) from {relation}").fetchone()[0]

    def record_sends(self, con, index: int, step: Step, audience: str) -> None:
        """Each due instance's decisions at its destinations -> sent, skipped (reason) or pending."""
        reasons = " ".join(f"when '{d}' then '{r}'" for d, r in SKIP_REASONS.items())
        con.execute(f"""create or replace temp table journey_sent as
            with outcomes as (
                select d.customer_key,
                    case when d.decision = 'unchanged' or (d.decision = 'send' and s.status = 'delivered') then 3
                         when d.decision = 'held_back' or (d.decision = 'send' and s.status in ('unknown', 'failed'))
                            then 2
                         else 1 end as rank,
                    case when d.decision = 'held_back' or s.status = 'unknown' then 'outcome unknown'
                         when s.status = 'failed' then 'failed: ' || coalesce(s.reason, '')
                         when d.decision = 'send' and s.status = 'suppressed' then 'suppression'
                         when d.decision = 'send' then 'rejected: ' || coalesce(s.reason, '')
                         when d.decision = 'invalid' then 'invalid: ' || coalesce(d.reason, '')
                         else case d.decision {reasons} else d.decision end end as reason
                from activation.sync_decisions as d
                left join activation.sync_state as s
                    on s.destination = d.destination and s.audience = d.audience and s.customer_key = d.customer_key
                where d.run_id = ? and d.audience = ?
            )
            select customer_key, max(rank) as rank, arg_max(reason, rank) as reason from outcomes group by 1""",
                    [self.run.run_id, audience])
        for rank, action, reason in ((3, "sent", "null"), (1, "skipped", "o.reason"), (2, "pending", "o.reason")):
            where = (f"activation.journey_instances as i join journey_sent as o using (customer_key)"
                     f" where i.journey = {literal(self.journey.name)} and i.status = 'active'"
                     f" and i.step_index = {index} and o.rank = {rank}")
            self.log(con, where, step.id, action, reason)
            if rank == 3:
                con.execute(f"""update activation.journey_instances set messages = messages + 1
                    where journey = ? and instance_id in (select i.instance_id from {where})""",
                            [self.journey.name])
            if rank != 2:
                self.move(con, where, self.journey.following(index), self.now)

    def complete(self, con) -> None:
        where = (f"activation.journey_instances as i where i.journey = {literal(self.journey.name)}"
                 f" and i.status = 'active' and i.step_index >= {len(self.journey.steps)}")
        self.log(con, where, "end", "completed", "null")
        con.execute(f"""update activation.journey_instances set status = 'completed', ended_at = {self.now},
                end_reason = 'completed', updated_run_id = ?
            where journey = ? and status = 'active' and step_index >= ?""",
                    [self.run.run_id, self.journey.name, len(self.journey.steps)])


def _send(open_warehouse: OpenWarehouse, evaluation: _Evaluation, step: Step) -> str:
    """Sync the step's due table to its destinations (the outbox when a connection is missing)."""
    spec = evaluation.journey.audience(step, known_types())
    run = evaluation.run
    for task in plan_tasks(spec):
        run_task(open_warehouse, spec, task.destination_index, run.run_id, run.reports_dir, run.caps,
                 run.journal_dir, False, run.control, evaluation.clock, keep_decisions=True)
    return spec.name


def _evaluate(open_warehouse: OpenWarehouse, journey: Journey, run: JourneyRun) -> dict:
    """One journey's daily evaluation (module docstring); its counts, also in activation.journey_runs.
    The warehouse stays open throughout, except while a step's messages go out."""
    started_at = datetime.now(UTC).isoformat()
    with ExitStack() as stack:
        con = stack.enter_context(open_warehouse())
        con.execute("begin transaction")  # each stretch between two sends commits at once, or not at all
        clock, as_of = run_clock(con), marts_as_of(con)
        evaluation = _Evaluation(journey, run, clock)
        candidates, entered = enter(con, journey, run.run_id, clock, str(as_of), run.control)
        for index, step in enumerate(journey.steps):
            if not con.execute(f"select exists (select 1 from {_active(journey, index)})").fetchone()[0]:
                continue
            evaluation.exits(con, index, step)
            if step.kind == "wait":
                evaluation.wait(con, index, step)
            elif step.kind == "split":
                evaluation.split(con, index, step)
            else:
                evaluation.skip_unsendable(con, index, step)
                if evaluation.due(con, index, step):
                    con.execute("commit")
                    stack.close()
                    audience = _send(open_warehouse, evaluation, step)
                    con = stack.enter_context(open_warehouse())
                    con.execute("begin transaction")
                    evaluation.record_sends(con, index, step, audience)
                con.execute(f"drop table if exists {journey.due_relation(step)}")
        evaluation.complete(con)
        counts = _counts(con, journey, run.run_id, candidates, entered)
        con.execute("delete from activation.journey_runs where run_id = ? and journey = ?", [run.run_id, journey.name])
        con.execute(f"""insert into activation.journey_runs (run_id, journey, as_of, clock, started_at, ended_at,
                {", ".join(state.RUN_COUNTS)}) values (?, ?, ?, ?, ?, ?, {", ".join("?" * len(state.RUN_COUNTS))})""",
                    [run.run_id, journey.name, as_of, clock, started_at, datetime.now(UTC).isoformat(),
                     *(counts[name] for name in state.RUN_COUNTS)])
        con.execute("commit")
    log.info("journey %s at %s: %s", journey.name, clock, counts)
    return {"journey": journey.name, **counts}


def _counts(con, journey: Journey, run_id: str, candidates: int, entered: int) -> dict:
    actions = dict(con.execute("select action, count(*) from activation.journey_steps where journey = ? and run_id = ?"
                               " group by 1", [journey.name, run_id]).fetchall())
    [(active,)] = con.execute("select count(*) from activation.journey_instances where journey = ?"
                              " and status = 'active'", [journey.name]).fetchall()
    return {"candidates": candidates, "entered": entered, "waiting": actions.get("waiting", 0),
            "sent": actions.get("sent", 0), "skipped": actions.get("skipped", 0),
            "exited": actions.get("exited", 0), "completed": actions.get("completed", 0), "active": active}


def evaluate_all(open_warehouse: OpenWarehouse, journeys: list[Journey], run: JourneyRun) -> list[dict]:
    """Every journey in name order (so caps between them are deterministic); their summaries."""
    with open_warehouse() as con:
        state.ensure(con)
        activation_state.ensure(con)
    return [_evaluate(open_warehouse, journey, run) for journey in sorted(journeys, key=lambda j: j.name)]

"""Journeys as data: one YAML file each under dbt_project/journeys/, validated by a schema (docs/journeys.md).

A journey has an entry (an event of marts.customer_journey_events, or entering a segment: a column
of a customer table taking one of some values), filters and exit conditions (SQL over the
customer's row of marts.dim_customers, `c`, and the instance, `i`), a re-entry policy, an
enrollment (current members or only future ones), a holdout share, a per-instance message cap and
steps: `wait`, `send` (an activation audience config: channel, fields, destinations) and `split`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mercator.activation.audiences import AudienceSpec, parse_audience
from mercator.activation.destination import ConfigError

NAME = r"^[a-z][a-z0-9_]{0,62}$"
EVENTS = ("identified", "begin_checkout", "order")
END = "end"
DUE_SCHEMA = "journey_due"
INSTANCE_FIELD = "journey_instance"  # every message carries its instance: a re-entry is a new message


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Segment(_Strict):
    """Entered when `column` of `relation` (one row per customer_key) takes one of `values`."""

    relation: str = Field("marts.dim_customers", pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
    column: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    values: list[str] = Field(min_length=1)


class Entry(_Strict):
    event: Literal[EVENTS] | None = None
    segment: Segment | None = None
    max_age_hours: float | None = Field(None, gt=0)  # event entries older than this when evaluated are stale

    @model_validator(mode="after")
    def _one_kind(self) -> Entry:
        if (self.event is None) == (self.segment is None):
            raise ValueError("give exactly one of event or segment")
        if self.segment is not None and self.max_age_hours is not None:
            raise ValueError("max_age_hours applies to event entries only")
        return self


class Reentry(_Strict):
    policy: Literal["none", "cooldown"] = "none"
    cooldown_days: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _cooldown(self) -> Reentry:
        if (self.policy == "cooldown") != (self.cooldown_days is not None):
            raise ValueError("cooldown_days is needed with policy cooldown, and only then")
        return self


class Exit(_Strict):
    purchased: bool = False  # an order of the customer at or after the entry
    when: list[str] = []  # SQL conditions


class Wait(_Strict):
    days: float = Field(0, ge=0)
    hours: float = Field(0, ge=0)

    @model_validator(mode="after")
    def _positive(self) -> Wait:
        if self.days * 24 + self.hours <= 0:
            raise ValueError("a wait needs days or hours")
        return self

    @property
    def hours_total(self) -> float:
        return self.days * 24 + self.hours


class Split(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    when: str
    then: str
    otherwise: str = Field(alias="else")


class Step(_Strict):
    id: str = Field(pattern=NAME)
    wait: Wait | None = None
    send: dict | None = None  # an audience's meta.activation without mode and holdout (checked in Journey)
    split: Split | None = None
    next: str | None = None  # where a wait or send goes on to (a later step or end; default the one after it)

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        if sum(x is not None for x in (self.wait, self.send, self.split)) != 1:
            raise ValueError("a step is exactly one of wait, send or split")
        if self.id == END:
            raise ValueError(f"{END!r} names the end of the journey, not a step")
        if self.split is not None and self.next is not None:
            raise ValueError("a split names its own targets (then, else), not next")
        return self

    @property
    def kind(self) -> str:
        return "wait" if self.wait else "send" if self.send is not None else "split"


class Journey(_Strict):
    name: str = Field(pattern=NAME)
    description: str = ""
    entry: Entry
    enrollment: Literal["future", "current"] = "future"
    filters: list[str] = []
    reentry: Reentry = Reentry()
    exit: Exit = Exit()
    holdout_share: float = Field(0.10, ge=0, lt=1)
    holdout_salt: str | None = None
    max_messages: int | None = Field(None, ge=1)
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _steps(self) -> Journey:
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError(f"step ids must be unique: {ids}")
        for n, step in enumerate(self.steps):
            targets = (step.split.then, step.split.otherwise) if step.split else (step.next,) if step.next else ()
            for target in targets:
                if target != END and target not in ids[n + 1:]:
                    raise ValueError(f"step {step.id}: target {target!r} is not a later step or {END!r}")
            if step.send is not None and {"mode", "holdout_share", "holdout_salt"} & set(step.send):
                raise ValueError(f"step {step.id}: holdouts are the journey's (holdout_share), not a step's")
        if not any(s.send is not None for s in self.steps):
            raise ValueError("a journey needs at least one send step")
        return self

    @property
    def salt(self) -> str:
        return self.holdout_salt or self.name

    def index(self, step_id: str) -> int:
        """A step's position; END is one past the last."""
        return len(self.steps) if step_id == END else [s.id for s in self.steps].index(step_id)

    def following(self, index: int) -> int:
        """Where the wait or send at `index` goes on to."""
        step = self.steps[index]
        return self.index(step.next) if step.next else index + 1

    def due_relation(self, step: Step) -> str:
        return f"{DUE_SCHEMA}.{self.name}__{step.id}"

    def audience(self, step: Step, known_types: dict[str, tuple[str, ...]]) -> AudienceSpec:
        """The send step as an activation audience named `<journey>.<step>` over its due table: consent,
        suppressions, caps and the global control group apply; the journey holds out at entry."""
        spec = parse_audience(f"{self.name}.{step.id}", self.due_relation(step),
                              {**step.send, "holdout_share": 0.0}, known_types)
        return replace(spec, fields={**spec.fields, INSTANCE_FIELD: "instance_id"})

    @property
    def channel(self) -> str:
        """The channel of the first message (recorded with the holdout assignments)."""
        return next(s.send.get("channel", "") for s in self.steps if s.send is not None)


def load_journey(path: Path, known_types: dict[str, tuple[str, ...]]) -> Journey:
    """One journey file, validated; a ConfigError names the file and what is wrong."""
    path = Path(path)
    try:
        journey = Journey.model_validate(yaml.safe_load(path.read_text()))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"journey {path.name}: {problems}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"journey {path.name}: not YAML ({error})") from None
    if journey.name != path.stem:
        raise ConfigError(f"journey {path.name}: name {journey.name!r} must match the file name")
    for step in journey.steps:
        if step.send is not None:
            try:
                journey.audience(step, known_types)
            except ConfigError as error:
                raise ConfigError(f"journey {path.name}: step {step.id}: {error}") from None
    return journey


def load_journeys(directory: Path, known_types: dict[str, tuple[str, ...]]) -> list[Journey]:
    """Every `*.yml` journey in `directory` (none when it does not exist), in name order."""
    directory = Path(directory)
    return [load_journey(p, known_types) for p in sorted(directory.glob("*.yml"))] if directory.is_dir() else []

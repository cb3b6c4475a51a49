"""Activation of every audience: discover them in dbt's manifest, check them, sync each destination.

A destination whose Airflow connection is not configured is skipped (a `skipped` row in
`activation.sync_runs` says why) and the audience goes to the outbox instead, so that `make run`
on the embedded defaults writes every audience to `reports/outbox/`. Every config is checked
against the warehouse before anything is sent.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from mercator.activation.audiences import AudienceSpec, DestinationSpec, load_audiences
from mercator.activation.destination import ConfigError, Destination, get_connection
from mercator.activation.holdout import NO_CONTROL, ControlGroup
from mercator.activation.journal import Journal
from mercator.activation.outbox_files import OutboxFiles, OutboxOptions
from mercator.activation.state import ensure
from mercator.activation.sync import OpenWarehouse, SyncResult, sync_audience
from mercator.warehouse import columns, run_clock

# destination type -> "module:Class"; imported only when an audience uses it
DESTINATION_CLASSES = {
    "outbox": "mercator.activation.outbox_files:OutboxFiles",
    "sendgrid": "mercator.activation.sendgrid:SendGridDestination",
    "sendgrid_mail": "mercator.activation.sendgrid_mail:SendGridMailDestination",
    "twilio_sms": "mercator.activation.twilio_sms:TwilioSmsDestination",
    "webhook": "mercator.activation.webhook:WebhookDestination",
    "google_customer_match": "mercator.activation.ad_files:GoogleCustomerMatchFiles",
    "meta_custom_audience": "mercator.activation.ad_files:MetaCustomAudienceFiles",
}
OUTBOX = DestinationSpec("outbox")


def destination_class(kind: str) -> type[Destination]:
    module, name = DESTINATION_CLASSES[kind].split(":")
    return getattr(importlib.import_module(module), name)


def known_types() -> dict[str, tuple[str, ...]]:
    return {kind: destination_class(kind).channels for kind in DESTINATION_CLASSES}


def project_vars(dbt_project_dir: Path, overrides: dict | None = None) -> dict:
    """The dbt project's vars (dbt_project.yml; none without one), a run's `overrides` over them."""
    path = Path(dbt_project_dir) / "dbt_project.yml"
    found = (yaml.safe_load(path.read_text()) or {}).get("vars", {}) if path.exists() else {}
    return {**found, **(overrides or {})}


def control_group(project: dict) -> ControlGroup:
    """The global control group of dbt vars control_group_share and control_group_salt (none when unset)."""
    return ControlGroup(float(project.get("control_group_share", 0.0)),
                        str(project.get("control_group_salt", ControlGroup.salt)))


def frequency_caps(project: dict) -> dict[str, int]:
    """Days between two messages per channel (dbt var activation_frequency_caps)."""
    return {k: int(v) for k, v in (project.get("activation_frequency_caps") or {}).items()}


@dataclass(frozen=True)
class SyncTask:
    """One audience x destination to sync: what the DAG maps over."""

    audience: str
    destination_index: int  # into the audience's destinations; -1 = the outbox fallback


def discover(open_warehouse: OpenWarehouse, manifest: Path) -> list[AudienceSpec]:
    """Every audience, each checked against its table's columns (a ConfigError names audience and key)."""
    audiences = load_audiences(manifest, known_types())
    with open_warehouse() as con:
        for spec in audiences:
            present = columns(con, spec.relation)
            if not present:
                raise ConfigError(f"audience {spec.name}: table {spec.relation} does not exist (dbt build first)")
            spec.check_columns(present)
    for spec in audiences:
        for index, target in enumerate(spec.destinations):
            destination_class(target.type).parse_options(target.options)  # checked before any send
            if destination_class(target.type).needs_connection and not target.connection:
                raise ConfigError(f"audience {spec.name}: meta.activation.destinations[{index}].connection: missing")
    return audiences


def _build(target: DestinationSpec, reports_dir: Path) -> Destination:
    cls = destination_class(target.type)
    if cls is OutboxFiles:
        return OutboxFiles(OutboxOptions(**target.options), reports_dir=reports_dir)
    connection = get_connection(target.connection) if cls.needs_connection else None
    return cls.from_options(target.options, connection)


def _record_skip(open_warehouse: OpenWarehouse, spec: AudienceSpec, target: DestinationSpec, run_id: str, why: str):
    now = datetime.now(UTC).isoformat()
    with open_warehouse() as con:
        ensure(con)
        con.execute(
            "insert or replace into activation.sync_runs (run_id, audience, destination, status, reason, started_at,"
            " ended_at) values (?, ?, ?, 'skipped', ?, ?, ?)",
            [run_id, spec.name, target.destination_id, why, now, now],
        )


def run_task(
    open_warehouse: OpenWarehouse,
    spec: AudienceSpec,
    index: int,
    run_id: str,
    reports_dir: Path,
    caps: dict[str, int],
    journal_dir: Path,
    dry_run: bool = False,
    control: ControlGroup = NO_CONTROL,
    now: str | None = None,
    keep_decisions: bool = False,
) -> SyncResult | None:
    """Sync one audience to its destination `index` (-1: the outbox); None when skipped. Message
    journals live in `journal_dir` (next to the warehouse); `now` and `keep_decisions` as in sync_audience."""
    target = OUTBOX if index < 0 else spec.destinations[index]
    try:
        destination = _build(target, reports_dir)
    except ConfigError as error:
        if "no Airflow connection" not in str(error):
            raise
        _record_skip(open_warehouse, spec, target, run_id, f"{error}: the audience goes to the outbox")
        return None
    destination.validate_fields([*spec.fields, "customer_key"])
    cap_days = caps.get(spec.message_channel) if destination.delivers_messages else None
    journal = Journal.for_sync(journal_dir, target.destination_id, spec.name)
    return sync_audience(open_warehouse, spec, target.destination_id, destination, run_id, cap_days, dry_run, journal,
                         control, now, keep_decisions)


def plan_tasks(spec: AudienceSpec) -> list[SyncTask]:
    """The audience's destinations, and the outbox when any needs a connection that is not configured."""
    tasks = [SyncTask(spec.name, i) for i in range(len(spec.destinations))]
    missing = []
    for target in spec.destinations:
        if target.type != "outbox" and destination_class(target.type).needs_connection:
            try:
                get_connection(target.connection)
            except ConfigError:
                missing.append(target)
    if missing and not any(t.type == "outbox" for t in spec.destinations):
        tasks.append(SyncTask(spec.name, -1))
    return tasks


def activate_all(
    open_warehouse: OpenWarehouse,
    manifest: Path,
    run_id: str,
    reports_dir: Path,
    dbt_project_dir: Path,
    journal_dir: Path,
    dry_run: bool = False,
    dbt_vars: dict | None = None,
) -> list[dict]:
    """Every audience to every destination, in order; the summary of each sync (`dbt_vars`: the run's
    vars over dbt_project.yml's)."""
    project = project_vars(dbt_project_dir, dbt_vars)
    caps, control = frequency_caps(project), control_group(project)
    with open_warehouse() as con:
        now = run_clock(con)
    summaries = []
    for spec in discover(open_warehouse, manifest):
        for task in plan_tasks(spec):
            result = run_task(open_warehouse, spec, task.destination_index, run_id, reports_dir, caps, journal_dir,
                              dry_run, control, now)
            target = OUTBOX if task.destination_index < 0 else spec.destinations[task.destination_index]
            summaries.append(result.summary() if result else
                             {"audience": spec.name, "destination": target.destination_id, "status": "skipped"})
    return summaries


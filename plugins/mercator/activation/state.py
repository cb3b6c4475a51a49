"""Activation's own tables (schema `activation`): keys, hashes and outcomes, never a name or an address.

- `sync_state`: per destination x audience x customer, the hash of the fields last sent, the
  outcome, its reason, the destination's id for the member, and whether Mercator added it (mirror
  mode removes only those).
- `sync_runs`: one row per run x audience x destination: status, start, end and every count.
- `assignments`: per audience x customer, treatment or holdout and whether it would have been
  sent (intent to treat), with the run that assigned it, that run's as-of date (the send date of
  `marts.campaign_results`), the audience's channel and intended holdout share: a row when the
  member is first assigned, and again only when its assignment changes (the split is
  deterministic per salt and share).
- `messages`: message deliveries (SMS, message-triggering webhooks) per channel, for frequency caps.
- `sync_decisions`: per run x audience x destination x member, the plan's decision and reason, for
  the syncs that ask for it (journeys: each message step turns them into state rows).
- `suppressions`: opt-outs learned from destinations during syncs (21610, unsubscribes), by the
  SHA-256 of the normalised identifier.
"""

from __future__ import annotations

import hashlib

DDL = (
    "create schema if not exists activation",
    """create table if not exists activation.sync_state (
        destination varchar not null, audience varchar not null, customer_key varchar not null,
        payload_hash varchar, status varchar not null, reason varchar, remote_id varchar,
        added_by_mercator boolean not null default true, run_id varchar not null,
        updated_at timestamptz not null default current_timestamp,
        primary key (destination, audience, customer_key))""",
    """create table if not exists activation.sync_runs (
        run_id varchar not null, audience varchar not null, destination varchar not null,
        status varchar not null, reason varchar, dry_run boolean not null default false,
        started_at timestamptz not null, ended_at timestamptz,
        members bigint, sent bigint, unchanged bigint, held_out bigint, control_group bigint, capped bigint,
        unconsented bigint, suppressed bigint, invalid bigint, held_back bigint, delivered bigint,
        rejected bigint, opted_out bigint, unknown bigint, failed bigint, reconciled bigint, removed bigint,
        erased bigint,
        primary key (run_id, audience, destination))""",
    """create table if not exists activation.assignments (
        run_id varchar not null, audience varchar not null, customer_key varchar not null,
        assignment varchar not null, would_send boolean not null, bucket double not null,
        assigned_at timestamptz not null default current_timestamp,
        as_of date, channel varchar, holdout_share double,
        primary key (run_id, audience, customer_key))""",
    # warehouses made before campaign results and the global control group
    "alter table activation.sync_runs add column if not exists control_group bigint",
    "alter table activation.assignments add column if not exists as_of date",
    "alter table activation.assignments add column if not exists channel varchar",
    "alter table activation.assignments add column if not exists holdout_share double",
    """create table if not exists activation.messages (
        channel varchar not null, customer_key varchar not null, audience varchar not null,
        destination varchar not null, run_id varchar not null, remote_id varchar,
        sent_at timestamptz not null)""",
    """create table if not exists activation.sync_decisions (
        run_id varchar not null, audience varchar not null, destination varchar not null,
        customer_key varchar not null, decision varchar not null, reason varchar,
        primary key (run_id, audience, destination, customer_key))""",
    """create table if not exists activation.suppressions (
        channel varchar not null, identifier_hash varchar not null, reason varchar not null,
        source varchar not null, occurred_at timestamptz not null,
        primary key (channel, identifier_hash))""",
)

COUNTS = (
    "members", "sent", "unchanged", "held_out", "control_group", "capped", "unconsented", "suppressed", "invalid",
    "held_back",
    "delivered", "rejected", "opted_out", "unknown", "failed", "reconciled", "removed", "erased",
)


def ensure(con) -> None:
    for statement in DDL:
        con.execute(statement)


def identifier_hash(value: str) -> str:
    """SHA-256 of a normalised identifier (lower-cased email or E.164 phone), as stored here."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()

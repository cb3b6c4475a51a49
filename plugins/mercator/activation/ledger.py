"""The sync ledger `activation.sync_log`: what each destination received for each audience, and when."""

from __future__ import annotations

import json
from collections.abc import Callable

DDL = """
create table if not exists activation.sync_log (
    destination varchar not null,
    audience varchar not null,
    customer_key varchar not null,
    payload_hash varchar not null,
    payload json not null,
    run_id varchar not null,
    run_date varchar not null,
    synced_at timestamptz not null default current_timestamp,
)
"""


def table_exists(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def ensure(con) -> None:
    con.execute("create schema if not exists activation")
    con.execute(DDL)


def last_hashes(con, destination: str, audience: str, exclude_run_id: str) -> dict[str, str]:
    """customer_key -> hash of the latest payload sent by any other run."""
    if not table_exists(con, "activation", "sync_log"):
        return {}
    rows = con.execute(
        """
        select customer_key, arg_max(payload_hash, synced_at)
        from activation.sync_log
        where destination = ? and audience = ? and run_id <> ?
        group by customer_key
        """,
        [destination, audience, exclude_run_id],
    ).fetchall()
    return dict(rows)


def record(
    con,
    destination: str,
    audience: str,
    run_id: str,
    run_date: str,
    rows: list[dict],
    hasher: Callable[[dict], str],
) -> None:
    """Replace this run's entries with `rows` (a rerun overwrites, never duplicates)."""
    ensure(con)
    con.execute("begin transaction")
    try:
        con.execute(
            "delete from activation.sync_log where destination = ? and audience = ? and run_id = ?",
            [destination, audience, run_id],
        )
        if rows:
            con.executemany(
                "insert into activation.sync_log"
                " (destination, audience, customer_key, payload_hash, payload, run_id, run_date)"
                " values (?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        destination,
                        audience,
                        r["customer_key"],
                        hasher(r),
                        json.dumps(r, default=str),
                        run_id,
                        run_date,
                    ]
                    for r in rows
                ],
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def payloads(con, destination: str, audience: str, run_date: str) -> list[dict]:
    """Every payload queued for this destination and audience on `run_date`, by customer_key."""
    rows = con.execute(
        """
        select payload from activation.sync_log
        where destination = ? and audience = ? and run_date = ?
        order by customer_key, run_id
        """,
        [destination, audience, run_date],
    ).fetchall()
    return [json.loads(p) for (p,) in rows]

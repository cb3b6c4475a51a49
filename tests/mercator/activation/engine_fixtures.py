"""A small warehouse for the sync engine: customers with consents, suppressions, audience tables, a manifest."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import duckdb

CUSTOMERS = 40


def customer(i: int) -> tuple:
    """k00..k39: email consent granted for even i, SMS for i % 3 == 0; k05 has no email; k07 a bad one."""
    email = None if i == 5 else ("not-an-address" if i == 7 else f"p{i}@example.com")
    return (
        f"k{i:02d}", email, f"+1555010{i:04d}", f"First{i}",
        "granted" if i % 2 == 0 else ("revoked" if i % 4 == 1 else "unknown"),
        "granted" if i % 3 == 0 else "unknown",
        "unknown",
    )


def build_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema intermediate")
        con.execute(
            """create table marts.dim_customers (customer_key varchar, email varchar, phone varchar,
               first_name varchar, email_consent varchar, sms_consent varchar, push_consent varchar)"""
        )
        con.executemany("insert into marts.dim_customers values (?, ?, ?, ?, ?, ?, ?)",
                        [customer(i) for i in range(CUSTOMERS)])
        con.execute(
            """create table intermediate.int_contact_suppressions as
               select 'email' as channel, 'p10@example.com' as identifier_value, 'events' as suppression_source,
                      'unsubscribe' as reason, timestamp '2026-01-01' as suppressed_at
               union all select 'sms', '+15550100003', 'events', 'STOP', timestamp '2026-01-01'"""
        )
        # selects everyone, ignoring consent: the engine must still send only to the consented
        con.execute(
            """create table marts.audience_everyone as
               select customer_key, email, phone, first_name, 'all' as segment from marts.dim_customers"""
        )
    return path


def write_audience(path: Path, keys: list[str], table: str = "audience_everyone") -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"create or replace table marts.{table} as select customer_key, email, phone, first_name,"
            " 'all' as segment from marts.dim_customers where list_contains(?, customer_key)",
            [keys],
        )


def manifest(path: Path, activation: dict, name: str = "audience_everyone") -> Path:
    """A dbt manifest holding one audience model with this meta.activation."""
    node = {
        "resource_type": "model", "name": name, "schema": "marts", "alias": name,
        "original_file_path": f"models/audiences/{name}.sql", "config": {"meta": {"activation": activation}},
    }
    path.write_text(json.dumps({"nodes": {f"model.mercator.{name}": node}}))
    return path


def opener(path: Path):
    @contextmanager
    def open_warehouse():
        con = duckdb.connect(str(path))
        try:
            yield con
        finally:
            con.close()

    return open_warehouse

"""A hand-made audience table, shaped like marts.audience_at_risk_email."""

from __future__ import annotations

AUDIENCE = "audience_at_risk_email"


def members(n: int, without_email: tuple[int, ...] = ()) -> list[tuple]:
    return [
        (
            f"k{i:03d}",
            None if i in without_email else f"p{i}@example.com",
            f"First{i}",
            "at_risk",
            100 + i,
            50.0 + i,
            "at_risk_email",
        )
        for i in range(n)
    ]


def write_audience(con, rows: list[tuple]) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        f"""create or replace table marts.{AUDIENCE} (customer_key varchar, email varchar, first_name varchar,
            segment varchar, recency_days integer, monetary decimal(18, 2), audience varchar)"""
    )
    con.executemany(f"insert into marts.{AUDIENCE} values (?, ?, ?, ?, ?, ?, ?)", rows)

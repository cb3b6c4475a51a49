"""Deterministic holdout assignment, identical in SQL (dbt macro `holdout_bucket`) and Python.

A member's bucket is the first 32 bits of md5("<salt>:<customer_key>") as a number in [0, 1): the
same on every run and machine, independent between audiences (each has its own salt). Members whose
bucket is below the audience's holdout share are held out and sent nothing.
"""

from __future__ import annotations

import hashlib

BUCKETS = 2**32


def holdout_bucket(customer_key: str, salt: str) -> float:
    digest = hashlib.md5(f"{salt}:{customer_key}".encode()).hexdigest()
    return int(digest[:8], 16) / BUCKETS


def holdout_bucket_sql(key_sql: str, salt: str) -> str:
    """The same bucket as a DuckDB expression (the dbt macro's DuckDB branch)."""
    salt_literal = "'" + salt.replace("'", "''") + ":'"
    return f"cast(('0x' || substr(md5({salt_literal} || {key_sql}), 1, 8)) as bigint) / {float(BUCKETS)}"

"""Deterministic holdout assignment, identical in SQL (dbt macro `holdout_bucket`) and Python.

A member's bucket is the first 32 bits of md5("<salt>:<customer_key>") as a number in [0, 1): the
same on every run and machine, independent between audiences (each has its own salt). Members whose
bucket is below the audience's holdout share are held out and sent nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

BUCKETS = 2**32


@dataclass(frozen=True)
class ControlGroup:
    """The global control group: customers whose bucket under `salt` is below `share` are reached by
    no audience, file or message (dbt vars control_group_share and control_group_salt). A bucket of
    its own salt, so it is independent of every audience's holdout; a new salt re-draws it."""

    share: float = 0.0
    salt: str = "global-control"

    def __post_init__(self) -> None:
        if not 0 <= self.share < 1:
            raise ValueError(f"control_group_share must be a share in [0, 1), not {self.share!r}")


NO_CONTROL = ControlGroup()


def holdout_bucket(customer_key: str, salt: str) -> float:
    digest = hashlib.md5(f"{salt}:{customer_key}".encode()).hexdigest()
    return int(digest[:8], 16) / BUCKETS


def holdout_bucket_sql(key_sql: str, salt: str) -> str:
    """The same bucket as a DuckDB expression (the dbt macro's DuckDB branch)."""
    salt_literal = "'" + salt.replace("'", "''") + ":'"
    return f"cast(('0x' || substr(md5({salt_literal} || {key_sql}), 1, 8)) as bigint) / {float(BUCKETS)}"

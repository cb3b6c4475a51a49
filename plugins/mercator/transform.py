"""Run dbt on the warehouse: a thin, logged wrapper around the dbt CLI."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from mercator.config import Settings, duckdb_resources

log = logging.getLogger(__name__)


class DbtFailed(RuntimeError):
    """dbt exited non-zero; the message carries the tail of its output."""


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment for a dbt run: the warehouse and its DuckDB resources (and Spark's folder beside it),
    the as-of date and the defaults."""
    env = dict(os.environ)
    env["MERCATOR_WAREHOUSE"] = str(settings.warehouse)
    env["MERCATOR_SPARK_DIR"] = str(settings.spark_dir)
    env["MERCATOR_AS_OF"] = settings.as_of or ""
    env["MERCATOR_DEFAULT_COUNTRY"] = settings.default_country
    env["MERCATOR_DEFAULT_CURRENCY"] = settings.default_currency
    resources = duckdb_resources(settings.warehouse)
    env["MERCATOR_DUCKDB_MEMORY_LIMIT"] = resources["memory_limit"]
    env["MERCATOR_DUCKDB_THREADS"] = resources["threads"]
    env["MERCATOR_DUCKDB_TEMP"] = resources["temp_directory"]
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def run_dbt(settings: Settings, *args: str) -> str:
    """Run `dbt <args>` on the settings' engine (the profile's target of that name) and return its
    output; raise DbtFailed on failure. Artifacts go to the settings' dbt target dir, where partial
    parsing carries over from one command to the next as long as the profile and the vars stay the same.
    The run's `dbt_vars` go in as `--vars`."""
    dbt = Path(sys.executable).with_name("dbt")
    cmd = [str(dbt), *args, "--target", settings.engine, "--profiles-dir", str(settings.dbt_project_dir),
           "--target-path", str(settings.dbt_target_dir)]
    if settings.dbt_vars:
        cmd += ["--vars", json.dumps(settings.dbt_vars, sort_keys=True)]
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    log.info("running %s", " ".join(cmd))
    proc = subprocess.run(
        cmd, cwd=settings.dbt_project_dir, env=dbt_env(settings),
        capture_output=True, text=True, check=False,
    )
    for line in proc.stdout.splitlines():
        log.info("dbt: %s", line)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise DbtFailed(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout

"""Run dbt on the warehouse: a thin, logged wrapper around dbt (in this process on DuckDB)."""

from __future__ import annotations

import itertools
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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
    The run's `dbt_vars` go in as `--vars`. DuckDB runs in this process (invoke_dbt); Spark in a dbt
    process of its own, whose JVM (and the lock it holds on the metastore) ends with the command."""
    cmd = [*args, "--target", settings.engine, "--profiles-dir", str(settings.dbt_project_dir),
           "--target-path", str(settings.dbt_target_dir)]
    if settings.dbt_vars:
        cmd += ["--vars", json.dumps(settings.dbt_vars, sort_keys=True)]
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    log.info("running dbt %s", " ".join(cmd))
    if settings.engine == "duckdb":
        return invoke_dbt(settings.dbt_project_dir, cmd, dbt_env(settings))
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *cmd], cwd=settings.dbt_project_dir, env=dbt_env(settings),
        capture_output=True, text=True, check=False,
    )
    for line in proc.stdout.splitlines():
        log.info("dbt: %s", line)
    if proc.returncode != 0:
        raise DbtFailed(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{_tail(proc.stdout + proc.stderr)}")
    return proc.stdout


def invoke_dbt(project_dir: Path, args: list[str], env: dict[str, str]) -> str:
    """Run `dbt <args>` on `project_dir` in this process (dbtRunner: no interpreter to start, no dbt to
    import again, a few seconds per command), with `env` as the environment, logging each line as it
    comes; return the output, raise DbtFailed on failure. The DuckDB database that dbt-duckdb keeps
    open afterwards is closed, so the next step can open the file with settings of its own."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    lines: list[str] = []

    def keep(event) -> None:
        if event.info.level != "debug":
            lines.append(event.info.msg)
            log.info("dbt: %s", event.info.msg)

    with _environment(env):
        try:
            result = dbtRunner(callbacks=[keep]).invoke(
                [*args, "--quiet", "--no-use-colors", "--project-dir", str(project_dir)]
            )
        finally:
            with DuckDBConnectionManager._LOCK:
                if DuckDBConnectionManager._ENV is not None:
                    DuckDBConnectionManager._ENV.close()
                    DuckDBConnectionManager._ENV = None
    if result.exception is not None:
        lines.append(f"{type(result.exception).__name__}: {result.exception}")
    output = "\n".join(lines)
    if not result.success:
        command = " ".join(itertools.takewhile(lambda arg: not arg.startswith("-"), args))
        raise DbtFailed(f"dbt {command} failed:\n{_tail(output)}")
    return output


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """os.environ replaced by `env` for the block (dbt's env_var reads it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _tail(output: str) -> str:
    return "\n".join(output.splitlines()[-40:])

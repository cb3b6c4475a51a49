"""Spark as the dbt engine: a local session on the warehouse folder, DuckDB's raw tables handed to it
and the tables it builds copied back.

Extract writes DuckDB's raw.* whatever the engine. For Spark, each raw table is exported to Parquet
under <warehouse folder>/spark/raw/<table>/, which dbt registers in Spark's catalog as `raw.<table>`
(an external Parquet table; on-run-start hook register_raw_tables). The catalog is the embedded
Derby metastore that dbt-spark's session method opens (`enableHiveSupport`), kept beside the tables
in <warehouse folder>/spark, so a later process (the Python models, the next run) sees every table
dbt built. Derby admits one process at a time: dbt and the Python models run one after the other.
After the last dbt pass, the tables Spark built are copied back into the DuckDB file
(publish_marts), which the gates, activation and reports read.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from jinja2 import Environment

from mercator.config import Settings

PROFILE = "mercator"
TARGET = "spark"
# Every schema dbt and the Python models build (raw is DuckDB's own): the DuckDB file then holds the
# same tables on either engine (mercator.evaluation reads staging: identity quality against the truth).
PUBLISHED = ("seeds", "staging", "intermediate", "marts", "ml", "snapshots")
# Scratch tables the Spark macros make beside a table (identifier ~ '__...': snapshots and delete+insert
# stage into __dbt_staged, connected components label rounds in __labels_a/b) and dbt-spark's __dbt_tmp.
# Not "__" alone: staging models are named stg_<source>__<entity>.
SCRATCH_SUFFIXES = ("__dbt_staged", "__dbt_tmp", "__labels_a", "__labels_b")


def session_conf(settings: Settings) -> dict[str, str]:
    """The profile's server_side_parameters of target spark, rendered for this warehouse: dbt's session
    and the Python models' session are configured in one place."""
    env = {**os.environ, "MERCATOR_SPARK_DIR": str(settings.spark_dir)}
    text = (settings.dbt_project_dir / "profiles.yml").read_text()

    def env_var(name: str, default: str | None = None) -> str:
        return env.get(name, default)

    rendered = Environment().from_string(text).render(env_var=env_var)
    output = yaml.safe_load(rendered)[PROFILE]["outputs"][TARGET]
    return {str(k): str(v) for k, v in output["server_side_parameters"].items()} | {"spark.sql.ansi.enabled": "false"}


@contextmanager
def spark_session(settings: Settings) -> Iterator:
    """A SparkSession on the warehouse's metastore (the same configuration as dbt's). On exit it stops
    and its JVM exits too: Derby keeps the metastore locked for as long as the JVM lives, and the next
    step (dbt, in its own process) needs it."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("mercator").enableHiveSupport()
    for key, value in session_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        yield spark
    finally:
        gateway = SparkContext._gateway
        spark.stop()
        gateway.shutdown()
        gateway.proc.stdin.close()  # the JVM exits when its stdin closes
        gateway.proc.wait()
        SparkContext._gateway = SparkContext._jvm = None


def export_raw(settings: Settings) -> list[str]:
    """Export every DuckDB raw.* table to Parquet, <spark_dir>/raw/<table>/, where dbt's on-run-start
    hook register_raw_tables registers it in Spark's catalog as raw.<table>."""
    from mercator.warehouse import connect

    raw_dir = settings.spark_dir / "raw"
    con = connect(settings.warehouse)
    try:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
        ).fetchall()]
        for table in tables:
            target = raw_dir / table
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            con.execute(f"copy raw.{table} to '{target / 'part-0.parquet'}' (format parquet)")
    finally:
        con.close()
    return tables


def publish_marts(settings: Settings) -> list[str]:
    """Copy the tables Spark built (schemas PUBLISHED; not scratch tables, SCRATCH_SUFFIXES) into
    the DuckDB warehouse, replacing them in one transaction: the mart gate, activation and the reports
    read DuckDB whatever the engine. Spark's managed tables are Parquet folders that DuckDB reads."""
    from mercator.warehouse import connect, table_exists

    root = settings.spark_dir / "warehouse"
    folders = sorted(
        folder for schema in PUBLISHED for folder in (root / f"{schema}.db").glob("*")
        if folder.is_dir() and not folder.name.endswith(SCRATCH_SUFFIXES)
    )
    con = connect(settings.warehouse)
    try:
        con.execute("begin transaction")
        for schema in PUBLISHED:
            con.execute(f"create schema if not exists {schema}")
        for folder in folders:
            table = _table(folder)
            if any(folder.glob("*.parquet")):
                con.execute(f"create or replace table {table} as select * from read_parquet('{folder}/*.parquet')")
            elif table_exists(con, table):  # Spark writes no file for a table it created empty (an empty seed)
                con.execute(f"delete from {table}")
        con.execute("commit")
    finally:
        con.close()
    return [_table(folder) for folder in folders]


def _table(folder: Path) -> str:
    return f"{folder.parent.name.removesuffix('.db')}.{folder.name}"

"""Engine selection without running an engine: `make run TARGET=...` -> the DAG's param `engine` ->
the run's settings (the DAG's tasks: tests/dags/test_dag_integrity.py); and what stays on DuckDB
whatever the engine (the raw gate's dbt source freshness). tests/e2e/test_spark_equality.py compares
what the engines build; these check the wiring, in a second."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import replace

import pytest
from mercator.config import Settings
from mercator.quality.load_freshness import settings_for_raw

from tests.conftest import REPO_ROOT


def test_run_params_choose_the_engine_and_empty_keeps_the_environments(monkeypatch) -> None:
    monkeypatch.setenv("MERCATOR_ENGINE", "spark")
    assert Settings.from_env().engine == "spark"
    assert Settings.from_env().with_run_params(engine="").engine == "spark"
    monkeypatch.delenv("MERCATOR_ENGINE")
    assert Settings.from_env().engine == "duckdb"
    assert Settings.from_env().with_run_params(engine="spark").engine == "spark"
    with pytest.raises(ValueError, match="engine"):
        Settings.from_env().with_run_params(engine="postgres")


def test_make_run_passes_its_target_as_the_dags_engine_param(tmp_path) -> None:
    """`make -n` prints the commands without running them (the setup stamp is made to look fresh)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    out = subprocess.run(
        ["make", "-n", "-o", ".venv/.setup-stamp", "run", "TARGET=spark", f"LANDING={tmp_path}",
         f"RUN_LOGS={tmp_path}"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout
    conf = re.search(r"airflow dags test marketing_daily -c '(\{.*?\})'", out)
    assert conf, out
    assert json.loads(conf.group(1))["engine"] == "spark"


def test_raw_load_freshness_runs_on_duckdb_in_its_own_target_dir_on_spark() -> None:
    duck = replace(Settings.from_env(), engine="duckdb")
    assert settings_for_raw(duck) == duck
    spark = replace(duck, engine="spark")
    raw = settings_for_raw(spark)
    assert raw.engine == "duckdb" and raw.warehouse == spark.warehouse
    assert raw.dbt_target_dir != spark.dbt_target_dir  # the Spark build keeps its partial parse


def test_publish_copies_every_schema_spark_builds_but_not_scratch_tables(tmp_path) -> None:
    """publish_marts on a folder laid out as Spark's warehouse (<schema>.db/<table>/part-*.parquet),
    written here by DuckDB: no Spark needed."""
    import duckdb
    from mercator.spark import PUBLISHED, SCRATCH_SUFFIXES, publish_marts

    settings = replace(Settings.from_env(), warehouse=tmp_path / "wh.duckdb", engine="spark")
    root = settings.spark_dir / "warehouse"
    with duckdb.connect() as con:
        for schema in (*PUBLISHED, "raw"):
            for table in ("t", "stg_x__y", *(f"t{suffix}" for suffix in SCRATCH_SUFFIXES)):
                folder = root / f"{schema}.db" / table
                folder.mkdir(parents=True)
                con.execute(f"copy (select 1 as x) to '{folder / 'part-0.parquet'}' (format parquet)")
    (root / "seeds.db" / "empty").mkdir()  # Spark writes no file for a table it created empty
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("create schema seeds; create table seeds.empty as select 1 as x")

    published = publish_marts(settings)

    assert {"staging.t", "staging.stg_x__y", "marts.t", "ml.t"} <= set(published)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        tables = set(con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall())
        expected = {(f"{schema}.{table}",) for schema in PUBLISHED for table in ("t", "stg_x__y")}
        assert tables == expected | {("seeds.empty",)}
        assert con.execute("select count(*) from seeds.empty").fetchone() == (0,)


def test_every_scratch_table_the_spark_macros_make_is_left_unpublished() -> None:
    import re

    from mercator.spark import SCRATCH_SUFFIXES

    macros = " ".join(p.read_text() for p in (REPO_ROOT / "dbt_project" / "macros").rglob("*.sql"))
    suffixes = set(re.findall(r"identifier ~ '(__\w+)'", macros))
    assert suffixes and suffixes <= set(SCRATCH_SUFFIXES)

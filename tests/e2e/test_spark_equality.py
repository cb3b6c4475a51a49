"""The same dbt project on Spark: one demo, extracted once, transformed on DuckDB and on Spark (dbt-spark,
method session) through the pipeline's own steps (both dbt passes, CLV and attribution between them),
then the marts compared. Spark's tables are read from the copy that publish_marts leaves in its DuckDB
file, which the gates, activation and reports read. dbt's data and unit tests are left out of both
builds (the DuckDB suites run them; `make run TARGET=spark` runs the data tests on Spark). Each build's
time is printed.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from mercator import pipeline
from mercator.config import Settings
from mercator.contract import ENTITIES

from tests.mercator.dbt.identity_fixtures import copy_project

pytestmark = [pytest.mark.e2e, pytest.mark.dag_runs(2)]

CUSTOMERS = 2000
SEED = 42
RELATIVE = 1e-9
STEPS = ("transform", "fit_clv", "attribute", "transform_scored")
NO_DBT_TESTS = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


@dataclass(frozen=True)
class Build:
    settings: Settings
    seconds: float

    def rows(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()


def _settings(root: Path, landing: Path, engine: str) -> Settings:
    project = copy_project(root)
    return replace(
        Settings.from_env(), landing_dir=landing, warehouse=root / "wh.duckdb", reports_dir=root / "reports",
        models_dir=root / "models", dbt_project_dir=project, dbt_target_dir=project / "target", engine=engine,
    )


def _build(settings: Settings) -> Build:
    started = time.monotonic()
    for step in STEPS:
        getattr(pipeline, step)(settings)
    seconds = time.monotonic() - started
    print(f"\n{settings.engine} build of {CUSTOMERS} demo customers: {seconds:.1f} s")
    return Build(settings, seconds)


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Build]:
    root = tmp_path_factory.mktemp("engines")
    landing = root / "landing"
    subprocess.run(
        [sys.executable, "-m", "mercator.demo", "--customers", str(CUSTOMERS), "--seed", str(SEED),
         "--out", str(landing)],
        check=True, capture_output=True,
    )
    settings = {engine: _settings(root / engine, landing, engine) for engine in ("duckdb", "spark")}
    pipeline.prepare_warehouse(settings["duckdb"])
    for entity in ENTITIES:
        pipeline.extract_entity(settings["duckdb"], entity.path, "test")
    shutil.copy(settings["duckdb"].warehouse, settings["spark"].warehouse)
    with pytest.MonkeyPatch.context() as patch:  # dbt's tests run elsewhere; here results are compared
        patch.setattr(pipeline, "BUILD_ARGS", NO_DBT_TESTS)
        return {engine: _build(s) for engine, s in settings.items()}


def _clusters(build: Build) -> dict[str, frozenset]:
    members = defaultdict(set)
    for key, kind, value in build.rows(
        "select customer_key, identifier_type, identifier_value from marts.customer_identities"
    ):
        members[key].add((kind, value))
    return {key: frozenset(m) for key, m in members.items()}


def _close(a, b) -> bool:
    """Equal, or for numbers computed in floating point (doubles, and decimals of divisions such as
    credits), equal within RELATIVE."""
    if isinstance(a, float | Decimal) and isinstance(b, float | Decimal):
        return math.isclose(a, b, rel_tol=RELATIVE, abs_tol=1e-12)
    return a == b


def _assert_rows_close(duck: list[tuple], spark: list[tuple]) -> None:
    assert len(duck) == len(spark)
    for d, s in zip(duck, spark, strict=True):
        assert all(_close(a, b) for a, b in zip(d, s, strict=True)), (d, s)


def test_identity_clusters_and_customer_keys_are_the_same(builds) -> None:
    duck, spark = _clusters(builds["duckdb"]), _clusters(builds["spark"])
    assert len(duck) > CUSTOMERS / 2
    assert set(duck.values()) == set(spark.values())
    assert duck == spark  # keys are md5 hashes of the same identifiers on both engines


def test_customers_and_their_profiles_are_the_same(builds) -> None:
    sql = "select * from marts.dim_customers order by customer_key"
    _assert_rows_close(builds["duckdb"].rows(sql), builds["spark"].rows(sql))


def test_orders_and_revenue_totals_are_equal(builds) -> None:
    per_order = "select * from marts.fct_orders order by order_source, source_order_id"
    assert builds["duckdb"].rows(per_order) == builds["spark"].rows(per_order)
    totals = (
        "select count(*), count(distinct customer_key), sum(net_amount), sum(net_amount_reporting)"
        " from marts.fct_orders where is_countable"
    )
    assert builds["duckdb"].rows(totals) == builds["spark"].rows(totals)


def test_rfm_scores_and_segments_are_the_same(builds) -> None:
    sql = "select * from marts.customer_rfm order by customer_key"
    assert len(builds["duckdb"].rows(sql)) > 0
    assert builds["duckdb"].rows(sql) == builds["spark"].rows(sql)


def test_clv_within_1e_9(builds) -> None:
    sql = "select * from marts.customer_clv order by customer_key"
    _assert_rows_close(builds["duckdb"].rows(sql), builds["spark"].rows(sql))


def test_attribution_paths_are_ordered_the_same_and_credits_within_1e_9(builds) -> None:
    paths = "select * from marts.attribution_paths order by path"
    assert builds["duckdb"].rows(paths) == builds["spark"].rows(paths)
    assert any(" > " in row[0] for row in builds["duckdb"].rows(paths))
    for sql in (
        "select * from ml.attribution_channel_credits order by model, channel",
        "select * from marts.attribution_credits order by all",
        "select * from marts.attribution_by_channel order by all",
    ):
        _assert_rows_close(builds["duckdb"].rows(sql), builds["spark"].rows(sql))


def test_audiences_are_the_same(builds) -> None:
    sql = "select * exclude (audience) from marts.audience_at_risk_email order by all"
    assert builds["duckdb"].rows(sql) == builds["spark"].rows(sql)


def _spark_sql_hazards(sql: str) -> list[str]:
    """SQL that Spark reads without error but not as DuckDB does: double-quoted names (string literals
    on Spark), `::` casts, a backslash escape other than \\\\ and \\' in a literal (Spark drops the
    backslash of \\s), and a literal followed at once by another (DuckDB's doubled quote; Spark
    concatenates the two)."""
    hazards, i = [], 0
    while i < len(sql):
        char = sql[i]
        if char == "'":
            end = i + 1
            while sql[end] != "'":
                if sql[end] == "\\":
                    if sql[end + 1] not in "\\'":
                        hazards.append(f"backslash escape in {sql[i:end + 2]}")
                    end += 1
                end += 1
            if end + 1 < len(sql) and sql[end + 1] == "'":
                hazards.append(f"doubled quote after {sql[i:end + 1]}")
            i = end + 1
            continue
        if char == '"':
            hazards.append(f"double-quoted name at {sql[i:i + 20]}")
            i = sql.find('"', i + 1) + 1 or len(sql)
            continue
        if sql.startswith("::", i):
            hazards.append(f"cast with :: at {sql[i - 10:i + 10]}")
        elif sql.startswith("--", i):
            i = sql.find("\n", i) % (len(sql) + 1)
            continue
        i += 1
    return hazards


def test_compiled_spark_sql_has_no_duckdb_only_syntax(builds) -> None:
    compiled = sorted((builds["spark"].settings.dbt_target_dir / "compiled").rglob("*.sql"))
    assert len(compiled) > 60  # every model and hook (the builds leave dbt's tests out)
    hazards = {str(path.name): h for path in compiled if (h := _spark_sql_hazards(path.read_text()))}
    assert hazards == {}


def test_hazards_are_found_outside_and_inside_literals() -> None:
    sql = "select \"To\", x::int, '\\s+', 'Can''t', '' as empty, 'a\\\\b' -- \"comment\"\n"
    hazards = _spark_sql_hazards(sql)
    assert [h.split(" ")[0] for h in hazards] == ["double-quoted", "cast", "backslash", "doubled"]

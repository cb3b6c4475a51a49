"""Demo data through the real pipeline steps for CLV: extract, dbt (first pass), fit_clv, dbt (second pass).

dbt runs only the models CLV needs (and what reads them), in a private copy of the project, so the
tests do not depend on other areas' models and do not clash with concurrent dbt runs.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
from mercator import pipeline
from mercator.config import Settings
from mercator.contract import ENTITIES
from mercator.transform import run_dbt

from tests.mercator.dbt.identity_fixtures import copy_project

FIRST_PASS = ("+int_clv_summaries", "+fct_orders", "+customer_rfm", "+dim_customers", "+audience_at_risk_email")
SECOND_PASS = ("source:ml.customer_clv_scores+", "source:ml.clv_model_params+")
ML_COLUMNS = (
    "select table_name, column_name, data_type from information_schema.columns "
    "where table_schema = 'ml' and table_name in ('customer_clv_scores', 'clv_model_params') order by all"
)


@dataclass(frozen=True)
class ClvBuild:
    settings: Settings
    landing: Path
    facts: dict
    ml_columns_before_fit: list[tuple]

    def rows(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()


def clv_build(root: Path, customers: int, seed: int) -> ClvBuild:
    landing = root / "landing"
    subprocess.run(
        [sys.executable, "-m", "mercator.demo", "--customers", str(customers), "--seed", str(seed),
         "--out", str(landing)],
        check=True, capture_output=True,
    )
    settings = replace(
        Settings.from_env(),
        landing_dir=landing,
        warehouse=root / "warehouse.duckdb",
        models_dir=root / "models",
        reports_dir=root / "reports",
        dbt_project_dir=copy_project(root),
        dbt_target_dir=root / "target",
        as_of=None,
    )
    pipeline.prepare_warehouse(settings)
    for entity in ENTITIES:
        pipeline.extract_entity(settings, entity.path, "clv-test")
    run_dbt(settings, "build", "--select", *FIRST_PASS, "--exclude", "source:ml+")
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        before = con.execute(ML_COLUMNS).fetchall()
    facts = pipeline.fit_clv(settings)
    run_dbt(settings, "build", "--select", *SECOND_PASS)
    return ClvBuild(settings, landing, facts, before)

"""One real build of the attribution models on demo data: demo -> extract -> dbt -> attribute -> dbt."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
from mercator import pipeline
from mercator.attribution.warehouse import attribute_warehouse
from mercator.config import Settings
from mercator.contract import ENTITIES
from mercator.engine import DuckDBEngine

from tests.mercator.dbt.identity_fixtures import copy_project, run_dbt

CUSTOMERS = 2000
SEED = 8
CORE = ("+attribution_paths", "+int_attribution_rule_credits", "+int_ad_spend_weekly")
SCORED = "source:ml.attribution_channel_credits+"


@dataclass(frozen=True)
class DemoBuild:
    root: Path
    warehouse: Path
    project: Path

    @property
    def params(self) -> dict:
        return json.loads((self.root / "landing" / "truth" / "params.json").read_text())

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.warehouse), read_only=True)


def build(root: Path) -> DemoBuild:
    landing = root / "landing"
    subprocess.run(
        [sys.executable, "-m", "mercator.demo", "--customers", str(CUSTOMERS), "--seed", str(SEED),
         "--out", str(landing)],
        check=True, capture_output=True,
    )
    settings = replace(Settings.from_env(), landing_dir=landing, warehouse=root / "wh.duckdb")
    pipeline.prepare_warehouse(settings)
    for entity in ENTITIES:
        pipeline.extract_entity(settings, entity.path, "test")
    project = copy_project(root)
    run_dbt(project, settings.warehouse, "build", "--select", *CORE, "--exclude", "source:ml+")
    with duckdb.connect(str(settings.warehouse)) as con:
        attribute_warehouse(DuckDBEngine(con))
    run_dbt(project, settings.warehouse, "build", "--select", SCORED)
    return DemoBuild(root, settings.warehouse, project)

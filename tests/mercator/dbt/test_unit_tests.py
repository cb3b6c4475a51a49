"""Every dbt unit test of the project passes on DuckDB. Pipeline runs leave them out (they check the
models' logic on fixtures, not the data); dbt needs the models' parents to exist, so both passes are
first built empty (`--empty`), with the attribution task's output table between them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from mercator import pipeline
from mercator.config import Settings
from mercator.transform import run_dbt

from tests.mercator.dbt.identity_fixtures import copy_project

EMPTY_BUILD = ("build", "--empty", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def test_every_dbt_unit_test_passes(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    settings = replace(
        Settings.from_env(), landing_dir=tmp_path / "landing", warehouse=tmp_path / "wh.duckdb",
        reports_dir=tmp_path / "reports", models_dir=tmp_path / "models", dbt_project_dir=project,
        dbt_target_dir=project / "target",
    )
    pipeline.prepare_warehouse(settings)
    run_dbt(settings, *EMPTY_BUILD, "--exclude", pipeline.SCORED)
    pipeline.attribute(settings)
    run_dbt(settings, *EMPTY_BUILD, "--select", pipeline.SCORED)
    run_dbt(settings, "test", "--select", "test_type:unit")
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    assert set(statuses) == set(manifest["unit_tests"])
    assert len(statuses) > 20 and set(statuses.values()) == {"pass"}

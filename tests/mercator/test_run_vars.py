"""A run's dbt vars (the DAG's param `dbt_vars`) -> the run's settings -> dbt's `--vars`, and the vars
activation reads from dbt_project.yml, overridden alike; without running dbt."""

from __future__ import annotations

import json
from dataclasses import replace

from mercator import transform
from mercator.activation.runner import control_group, frequency_caps, project_vars
from mercator.config import Settings

from tests.conftest import REPO_ROOT

DBT_PROJECT = REPO_ROOT / "dbt_project"


def test_run_params_carry_the_runs_dbt_vars_and_empty_keeps_none() -> None:
    assert Settings.from_env().with_run_params(dbt_vars={}).dbt_vars == {}
    assert Settings.from_env().with_run_params(dbt_vars={"campaign_window_days": 7}).dbt_vars == {
        "campaign_window_days": 7}


def test_dbt_gets_the_runs_vars(monkeypatch, tmp_path) -> None:
    commands = []
    monkeypatch.setattr(transform, "invoke_dbt", lambda project, args, env: commands.append(args) or "")
    settings = replace(Settings.from_env(), warehouse=tmp_path / "wh.duckdb")
    transform.run_dbt(settings, "build")
    transform.run_dbt(settings.with_run_params(dbt_vars={"activation_high_value_share": 0.5}), "build")
    assert "--vars" not in commands[0]
    assert json.loads(commands[1][commands[1].index("--vars") + 1]) == {"activation_high_value_share": 0.5}


def test_activation_reads_the_project_vars_under_the_runs() -> None:
    project = project_vars(DBT_PROJECT)
    assert project_vars(DBT_PROJECT, {"control_group_share": 0.2}) == {**project, "control_group_share": 0.2}
    assert control_group(project_vars(DBT_PROJECT, {"control_group_share": 0.2})).share == 0.2
    assert control_group(project).share == project["control_group_share"] > 0
    assert frequency_caps(project_vars(DBT_PROJECT, {"activation_frequency_caps": {"sms": 1}})) == {"sms": 1}

"""Load freshness: `dbt source freshness` on the raw sources (loaded_at_field `_loaded_at`).

It answers "when did Mercator last load a delivery of each entity", which no GX suite
checks (the raw suites check how recent the records' own dates are). Thresholds live in
dbt_project/models/staging/_raw__sources.yml; a stale source is a warning, never a stop.
Entities that never received a delivery are left out (they are optional).

It runs on DuckDB whatever the run's engine: raw.* is DuckDB's (extract writes it), and on Spark the
raw tables are handed over only later, by the transform step, so Spark would read the previous run's
copy, or on a first run none (settings_for_raw).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

from mercator.config import Settings
from mercator.quality.runner import PASSED, WARNED, SuiteResult

NAME = "dbt_source_freshness"
NEVER_LOADED = "0001-01-01"


def settings_for_raw(settings: Settings) -> Settings:
    """The settings dbt source freshness runs with: DuckDB, where raw.* is. On another engine, in a
    target dir of its own (`<target dir>/duckdb`): a change of profile makes dbt parse the whole
    project again, and the run's target dir keeps the engine's partial parse for the builds."""
    if settings.engine == "duckdb":
        return settings
    return replace(settings, engine="duckdb", dbt_target_dir=settings.dbt_target_dir / "duckdb")


def check_load_freshness(settings: Settings) -> SuiteResult:
    """Run dbt source freshness on `source:raw`; each stale entity becomes a warning."""
    from mercator.transform import DbtFailed, run_dbt

    # dbt's target dir of the run: the build after it parses only what changed. The sources.json dbt
    # writes there is kept under the reports (not `--output`: dbt deprecates it).
    raw_settings = settings_for_raw(settings)
    report = settings.reports_dir / "quality" / NAME / "sources.json"
    try:
        run_dbt(raw_settings, "source", "freshness", "--select", "source:raw")
    except DbtFailed as failure:  # cannot tell how fresh the loads are: say so, do not stop the run
        return SuiteResult(NAME, "raw.*", True, WARNED, [], [str(failure).splitlines()[0]])
    report.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(raw_settings.dbt_target_dir / "sources.json", report)
    results = json.loads(report.read_text())["results"]
    loaded = [r for r in results if not str(r.get("max_loaded_at", "")).startswith(NEVER_LOADED)]
    warnings = [
        f"{r['unique_id'].removeprefix('source.mercator.')}: last delivery loaded {r['max_loaded_at'][:16]}"
        f" ({r['max_loaded_at_time_ago_in_s'] / 86400:.1f} days before the check)"
        for r in loaded
        if r["status"] != "pass"
    ]
    statistics = {"evaluated_expectations": len(loaded), "successful_expectations": len(loaded) - len(warnings)}
    return SuiteResult(NAME, "raw.*", True, WARNED if warnings else PASSED, [], warnings, statistics)

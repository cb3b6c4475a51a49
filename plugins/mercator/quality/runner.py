"""Run the quality suites against the DuckDB warehouse and gate the pipeline on their result.

Validations run as SQL inside DuckDB (GX SQL data source through duckdb-engine);
no table is loaded into pandas. One GX context per call of `run_suites`.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mercator.quality.project import DATASOURCE, DOCS_SITE, PROJECT_DIR, open_context, warehouse_url
from mercator.quality.suites import CRITICAL, SuiteSpec, suite

log = logging.getLogger(__name__)

PASSED, WARNED, FAILED, SKIPPED = "passed", "passed_with_warnings", "failed", "skipped"


class QualityGateFailed(Exception):
    """A critical expectation failed: the data must not flow further."""


@dataclass
class SuiteResult:
    suite: str
    table: str
    success: bool
    status: str
    critical_failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    statistics: dict = field(default_factory=dict)
    reason: str = ""


def _describe(result) -> str:
    """`expect_x(column): 3 of 100 unexpected` for one failed expectation result."""
    config = result.expectation_config
    target = config.kwargs.get("column") or config.kwargs.get("column_A") or "table"
    details = result.result or {}
    if result.exception_info and result.exception_info.get("raised_exception"):
        message = str(result.exception_info.get("exception_message", "")).splitlines()[0][:200]
        outcome = f"error: {message}"
    elif "unexpected_count" in details:
        outcome = f"{details['unexpected_count']} of {details.get('element_count')} rows unexpected"
    else:
        outcome = f"observed {details.get('observed_value')}"
    return f"{config.type}({target}): {outcome}"


def _from_validation(spec: SuiteSpec, validation) -> SuiteResult:
    critical, warnings = [], []
    for result in validation.results:
        if result.success:
            continue
        severity = result.expectation_config.meta.get("severity", CRITICAL)
        (critical if severity == CRITICAL else warnings).append(_describe(result))
    status = FAILED if critical else WARNED if warnings else PASSED
    return SuiteResult(
        spec.name, spec.table, not critical, status, critical, warnings, dict(validation.statistics)
    )


def _skip_reason(con, spec: SuiteSpec) -> str | None:
    """Why a suite has nothing to check (absent table, or empty with no delivered rows), or None."""
    schema, table = spec.table.split(".")
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()[0]
    if not exists:
        return f"skipped: no data ({spec.table} does not exist)"
    if con.execute(f"select exists (select 1 from {spec.table})").fetchone()[0]:
        return None
    if spec.entity_path and _rows_delivered(con, spec.entity_path):
        return None  # files with rows arrived yet the table is empty: let the row count expectation fail
    return f"skipped: no data ({spec.table} is empty)"


def _rows_delivered(con, entity_path: str) -> bool:
    source, entity = entity_path.split("/")
    has_log = con.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'raw' and table_name = '_deliveries'"
    ).fetchone()[0]
    if not has_log:
        return False
    return bool(
        con.execute(
            "select coalesce(sum(rows_in), 0) > 0 from raw._deliveries where source = ? and entity = ?",
            [source, entity],
        ).fetchone()[0]
    )


def _skip_reasons(warehouse: Path, specs: list[SuiteSpec]) -> dict[str, str | None]:
    import duckdb

    if not Path(warehouse).exists():
        return {s.name: f"skipped: no data (no warehouse at {warehouse})" for s in specs}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {s.name: _skip_reason(con, s) for s in specs}


def run_suites(
    warehouse: Path,
    suite_names: tuple[str, ...] | list[str],
    reports_dir: Path | None = None,
    project_dir: Path = PROJECT_DIR,
) -> list[SuiteResult]:
    """Validate each suite's table; persist the outcome (and Data Docs) under `<reports_dir>/quality/`."""
    specs = [suite(name) for name in suite_names]
    skipped = _skip_reasons(warehouse, specs)
    results: list[SuiteResult] = []
    to_run = [s for s in specs if not skipped[s.name]]
    if to_run:
        with warehouse_url(warehouse):
            context = open_context(project_dir)
            try:
                for spec in to_run:
                    checkpoint_result = context.checkpoints.get(spec.name).run()
                    (validation,) = checkpoint_result.run_results.values()
                    results.append(_from_validation(spec, validation))
            finally:
                _release_warehouse(context)
    results += [
        SuiteResult(s.name, s.table, True, SKIPPED, reason=skipped[s.name]) for s in specs if skipped[s.name]
    ]
    results.sort(key=lambda r: suite_names.index(r.suite))
    for result in results:
        log.info("quality %s: %s %s", result.suite, result.status, result.reason or result.statistics)
    if reports_dir is not None:
        write_last_run(results, Path(reports_dir) / "quality")
        if to_run:
            _publish_data_docs(project_dir, Path(reports_dir) / "quality" / "data_docs")
    return results


def run_suite(
    warehouse: Path, suite_name: str, reports_dir: Path | None = None, project_dir: Path = PROJECT_DIR
) -> SuiteResult:
    """Validate one suite (see `run_suites`)."""
    return run_suites(warehouse, [suite_name], reports_dir, project_dir)[0]


def _release_warehouse(context) -> None:
    """Close GX's DuckDB connection so the next task can open the warehouse for writing."""
    datasource = context.data_sources.get(DATASOURCE)
    datasource.get_execution_engine().close()
    datasource.get_engine().dispose()


def gate(results: list[SuiteResult]) -> None:
    """Raise `QualityGateFailed` when any suite has a failed critical expectation."""
    failed = [r for r in results if r.critical_failures]
    if failed:
        lines = [f"{r.suite} ({r.table}): {f}" for r in failed for f in r.critical_failures]
        raise QualityGateFailed("critical data quality checks failed:\n  " + "\n  ".join(lines))


def write_last_run(results: list[SuiteResult], quality_dir: Path) -> Path:
    """Merge these suites' outcome into `last_run.json` (raw and mart suites run in separate tasks)."""
    quality_dir.mkdir(parents=True, exist_ok=True)
    path = quality_dir / "last_run.json"
    state = json.loads(path.read_text()) if path.exists() else {"suites": {}}
    checked_at = datetime.now(UTC).isoformat(timespec="seconds")
    for result in results:
        state["suites"][result.suite] = {**asdict(result), "checked_at": checked_at}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(path)
    return path


def _publish_data_docs(project_dir: Path, target: Path) -> None:
    """Copy the Data Docs site GX built under `uncommitted/` next to the dashboard."""
    site = Path(project_dir) / "uncommitted" / "data_docs" / DOCS_SITE
    if site.exists():
        shutil.copytree(site, target, dirs_exist_ok=True)

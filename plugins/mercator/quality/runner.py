"""Run the quality suites against the DuckDB warehouse and gate the pipeline on their result.

Validations run as SQL inside DuckDB (GX SQL data source through duckdb-engine);
no table is loaded into pandas. One GX context per call of `run_suites`. Each run
replaces the previous result of its suites under `<reports_dir>/quality/`
(`last_run.json`, `validations/`, Data Docs in `data_docs/`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from mercator.quality.project import (
    DATASOURCE,
    DOCS_SITE,
    DOCS_SUBDIR,
    PROJECT_DIR,
    RESULTS_SUBDIR,
    open_context,
    run_context,
)
from mercator.quality.suites import CRITICAL, FRESH_SINCE, LATEST_ALLOWED, SuiteSpec, suite
from mercator.warehouse import table_exists

log = logging.getLogger(__name__)

PASSED, WARNED, FAILED, SKIPPED = "passed", "passed_with_warnings", "failed", "skipped"


class QualityGateFailed(Exception):
    """A critical expectation failed: the data must not flow further."""


@dataclass(frozen=True)
class QualityParams:
    """Tolerances of the run-dependent checks (env MERCATOR_FUTURE_TOLERANCE_DAYS, MERCATOR_FRESHNESS_DAYS)."""

    future_tolerance_days: int = 1  # a record may be dated at most this many days after today
    freshness_days: int = 7  # the latest record must be at most this many days older than the as-of date

    @classmethod
    def from_env(cls) -> QualityParams:
        return cls(
            future_tolerance_days=int(os.environ.get("MERCATOR_FUTURE_TOLERANCE_DAYS", cls.future_tolerance_days)),
            freshness_days=int(os.environ.get("MERCATOR_FRESHNESS_DAYS", cls.freshness_days)),
        )


def expectation_parameters(as_of: str | None, params: QualityParams, today: date | None = None) -> dict:
    """The suites' run parameters: freshness counts back from as-of (default today), the future from today.

    A backfill (as-of in the past) may hold records after its as-of date; none may be after today.
    """
    today = today or datetime.now(UTC).date()
    reference = date.fromisoformat(as_of) if as_of else today
    return {
        FRESH_SINCE: reference - timedelta(days=params.freshness_days),
        LATEST_ALLOWED: today + timedelta(days=params.future_tolerance_days),
    }


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
    docs: str = ""  # this run's Data Docs page, relative to the reports dir
    seconds: float = 0.0  # time to validate the suite


def _describe(result) -> str:
    """`expect_x(column): 3 of 100 unexpected` for one failed expectation result."""
    config = result.expectation_config
    target = config.kwargs.get("column") or config.kwargs.get("column_A") or config.description or "table"
    details = result.result or {}
    error = _error_message(result.exception_info or {})
    if error:
        outcome = f"error: {error}"
    elif "unexpected_count" in details:
        outcome = f"{details['unexpected_count']} of {details.get('element_count')} rows unexpected"
        examples = details.get("partial_unexpected_list") or []
        if examples and config.type == "expect_column_values_to_be_in_set":  # codes, never personal data
            outcome += f" (e.g. {', '.join(map(str, examples[:3]))})"
    elif config.type == "expect_table_columns_to_match_set":
        missing = (details.get("details") or {}).get("mismatched", {}).get("missing", [])
        outcome = f"missing column(s) {', '.join(missing)}"
    elif config.type == "unexpected_rows_expectation":
        outcome = f"{details.get('observed_value')} rows unexpected"
    else:
        outcome = f"observed {details.get('observed_value')}"
        if config.type == "expect_column_max_to_be_between":
            outcome += f", allowed {_bounds(config.kwargs)}"
    return f"{config.type}({target}): {outcome}"


def _error_message(info: dict) -> str:
    """The first line of the exception GX caught, found at the top or per metric."""
    if info.get("raised_exception"):
        return str(info.get("exception_message", "")).splitlines()[0][:200]
    return next((m for v in info.values() if isinstance(v, dict) and (m := _error_message(v))), "")


def _bounds(kwargs: dict) -> str:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    return f">= {low}" if high is None else f"<= {high}" if low is None else f"{low}..{high}"


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
    if not table_exists(con, spec.table):
        return f"skipped: no data ({spec.table} does not exist)"
    if con.execute(f"select exists (select 1 from {spec.table})").fetchone()[0]:
        return None
    if spec.entity_path and _rows_delivered(con, spec.entity_path):
        return None  # files with rows arrived yet the table is empty: let the row count expectation fail
    return f"skipped: no data ({spec.table} is empty)"


def _rows_delivered(con, entity_path: str) -> bool:
    source, entity = entity_path.split("/")
    if not table_exists(con, "raw._deliveries"):
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
    as_of: str | None = None,
    params: QualityParams | None = None,
) -> list[SuiteResult]:
    """Validate each suite's table; persist the outcome and Data Docs under `<reports_dir>/quality/`."""
    specs = [suite(name) for name in suite_names]
    skipped = _skip_reasons(warehouse, specs)
    results: list[SuiteResult] = []
    to_run = [s for s in specs if not skipped[s.name]]
    if to_run:
        parameters = expectation_parameters(as_of, params or QualityParams.from_env())
        with tempfile.TemporaryDirectory() as scratch:
            output = Path(reports_dir) / "quality" if reports_dir is not None else Path(scratch)
            _forget_previous_results(output, [s.name for s in to_run])
            with run_context(warehouse, output):
                context = open_context(project_dir)
                validated = []
                try:
                    for spec in to_run:
                        start = time.perf_counter()
                        checkpoint_result = context.checkpoints.get(spec.name).run(
                            expectation_parameters=parameters
                        )
                        ((identifier, validation),) = checkpoint_result.run_results.items()
                        validated.append(identifier)
                        results.append(_from_validation(spec, validation))
                        results[-1].seconds = round(time.perf_counter() - start, 2)
                finally:
                    _release_warehouse(context)
                if reports_dir is not None:
                    context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=validated)
                    for result in results:
                        result.docs = _docs_page(Path(reports_dir), output, result.suite)
    results += [
        SuiteResult(s.name, s.table, True, SKIPPED, reason=skipped[s.name]) for s in specs if skipped[s.name]
    ]
    results.sort(key=lambda r: suite_names.index(r.suite))
    for result in results:
        log.info("quality %s: %s %s", result.suite, result.status, result.reason or result.statistics)
        for problem in result.critical_failures:
            log.error("quality %s critical: %s", result.suite, problem)
        for problem in result.warnings:
            log.warning("quality %s warning: %s", result.suite, problem)
    if reports_dir is not None:
        write_last_run(results, Path(reports_dir) / "quality")
    return results


def _docs_page(reports_dir: Path, output: Path, suite_name: str) -> str:
    pages = sorted((output / DOCS_SUBDIR / "validations" / suite_name).rglob("*.html"))
    return pages[-1].relative_to(reports_dir).as_posix() if pages else ""


def _forget_previous_results(output: Path, suite_names: list[str]) -> None:
    """Drop the stored results and Data Docs pages of these suites: each run replaces the last one."""
    for name in suite_names:
        shutil.rmtree(output / RESULTS_SUBDIR / name, ignore_errors=True)
        shutil.rmtree(output / DOCS_SUBDIR / "validations" / name, ignore_errors=True)


def run_suite(
    warehouse: Path,
    suite_name: str,
    reports_dir: Path | None = None,
    project_dir: Path = PROJECT_DIR,
    as_of: str | None = None,
    params: QualityParams | None = None,
) -> SuiteResult:
    """Validate one suite (see `run_suites`)."""
    return run_suites(warehouse, [suite_name], reports_dir, project_dir, as_of, params)[0]


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
    checked_at = datetime.now(UTC).isoformat(timespec="seconds")

    def merge(state: dict) -> None:
        for result in results:
            state.setdefault("suites", {})[result.suite] = {**asdict(result), "checked_at": checked_at}

    return _update_last_run(quality_dir, merge)


def write_gate(gate_name: str, run_id: str | None, results: list[SuiteResult], quality_dir: Path) -> dict:
    """Record a gate's outcome for this run under `gates.<gate_name>` of `last_run.json`; returns the entry.

    The dashboard tells this run's outcome from an earlier run's by `run_id`.
    """
    failed = [r for r in results if r.critical_failures]
    entry = {
        "gate": gate_name,
        "run_id": run_id,
        "status": FAILED if failed else PASSED,
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "failures": [{"suite": r.suite, "table": r.table, "critical_failures": r.critical_failures} for r in failed],
    }

    def record(state: dict) -> None:
        state.setdefault("gates", {})[gate_name] = entry

    _update_last_run(quality_dir, record)
    return entry


def _update_last_run(quality_dir: Path, change) -> Path:
    """Apply `change` to the state in `<quality_dir>/last_run.json` and replace the file atomically."""
    quality_dir.mkdir(parents=True, exist_ok=True)
    path = quality_dir / "last_run.json"
    state = json.loads(path.read_text()) if path.exists() else {"suites": {}}
    change(state)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(path)
    return path

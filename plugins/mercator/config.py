"""Run settings, read from environment variables with embedded defaults.

Every path is relative to the repository root unless given absolute. No secret
lives here: credentials come from Airflow connections or the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENGINES = ("duckdb", "spark")  # dbt's target: the profile's output of that name


def _resolve(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else REPO_ROOT / path


def _path(var: str, default: str) -> Path:
    return _resolve(os.environ.get(var) or default)


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse: Path
    reports_dir: Path
    models_dir: Path
    dbt_project_dir: Path
    dbt_target_dir: Path  # dbt's artifacts (manifest, partial parse) for this warehouse's runs
    as_of: str | None
    default_country: str
    source_timezone: str
    default_currency: str
    engine: str = "duckdb"  # where dbt and the Python models run; extract and the gates stay on DuckDB
    dbt_vars: dict = field(default_factory=dict)  # this run's dbt vars, over dbt_project.yml's

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine {self.engine!r}: expected one of {', '.join(ENGINES)}")

    @property
    def spark_dir(self) -> Path:
        """Spark's tables, metastore and raw Parquet files, beside the DuckDB file (mercator.spark)."""
        return self.warehouse.parent / "spark"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            landing_dir=_path("MERCATOR_LANDING", "data/landing"),
            warehouse=_path("MERCATOR_WAREHOUSE", "warehouse/mercator.duckdb"),
            reports_dir=_path("MERCATOR_REPORTS", "reports"),
            models_dir=_path("MERCATOR_MODELS", "models"),
            dbt_project_dir=REPO_ROOT / "dbt_project",
            dbt_target_dir=_path("MERCATOR_DBT_TARGET", "dbt_project/target"),
            as_of=os.environ.get("MERCATOR_AS_OF") or None,
            default_country=os.environ.get("MERCATOR_DEFAULT_COUNTRY", "US"),
            source_timezone=os.environ.get("MERCATOR_SOURCE_TZ", "UTC"),
            default_currency=os.environ.get("MERCATOR_DEFAULT_CURRENCY", "USD"),
            engine=os.environ.get("MERCATOR_ENGINE") or "duckdb",
        )

    def with_run_params(
        self,
        landing_dir: str | None = None,
        as_of: str | None = None,
        engine: str | None = None,
        dbt_vars: dict | None = None,
    ) -> Settings:
        """Apply a DAG run's params (empty values keep the environment's settings)."""
        changes: dict[str, object] = {}
        if dbt_vars:
            changes["dbt_vars"] = dict(dbt_vars)
        if engine:
            changes["engine"] = engine
        if landing_dir:
            changes["landing_dir"] = _resolve(landing_dir)
        if as_of:
            changes["as_of"] = as_of
        return replace(self, **changes)


def duckdb_resources(warehouse: Path) -> dict[str, str]:
    """DuckDB's memory limit, threads and spill directory for every process that writes `warehouse`
    (the pipeline's connections and dbt's profile): large data spills to disk instead of failing.
    Environment: MERCATOR_DUCKDB_MEMORY_LIMIT (default 4GB), MERCATOR_DUCKDB_THREADS (default: the
    machine's cores), MERCATOR_DUCKDB_TEMP (default `<warehouse>.tmp`, beside the file)."""
    return {
        "memory_limit": os.environ.get("MERCATOR_DUCKDB_MEMORY_LIMIT") or "4GB",
        "threads": os.environ.get("MERCATOR_DUCKDB_THREADS") or str(os.cpu_count() or 1),
        "temp_directory": os.environ.get("MERCATOR_DUCKDB_TEMP") or f"{Path(warehouse)}.tmp",
    }

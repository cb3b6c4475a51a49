"""Extract: landing files -> DuckDB schema `raw`, with load metadata, incremental by delivery, quarantine.

Airflow calls, per entity: `load_entity(con, landing_dir, "shop/orders", load_id)`.
"""

from mercator.extract.discover import discover
from mercator.extract.load import EntityLoadResult, FileLoadResult, load_entity, summarize
from mercator.extract.schema import ensure_raw_schema

__all__ = [
    "EntityLoadResult",
    "FileLoadResult",
    "discover",
    "ensure_raw_schema",
    "load_entity",
    "summarize",
]

"""Bad-input corpus helpers: tiny landing folders run through the real extract step (and dbt).

Every case writes files under a tmp landing folder, runs `mercator.pipeline.prepare_warehouse` and
`extract_entity` on a tmp DuckDB warehouse, and checks the delivery log: for every file, rows in =
rows loaded + rows quarantined, matching the rows really in raw and in raw.quarantine.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pytest
from mercator import pipeline
from mercator.config import Settings

ORDERS = "shop/orders"
ORDER_HEADER = ["order_id", "customer_id", "email", "phone", "ordered_at", "total_amount", "currency", "status"]


def order(order_id: str, ordered_at: str = "2026-03-01T10:00:00Z", total: str = "10.00", **extra: str) -> dict:
    """One valid shop order row (customer and email derived from the id)."""
    return {"order_id": order_id, "customer_id": f"cust-{order_id}", "email": f"{order_id}@example.test",
            "phone": "", "ordered_at": ordered_at, "total_amount": total, "currency": "USD", "status": "paid",
            **extra}


def csv_text(rows: list[dict], header: list[str] | None = None) -> str:
    header = header or list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@dataclass(frozen=True)
class Corpus:
    """A landing folder and warehouse for one case, and the extract step on them."""

    settings: Settings

    @property
    def landing(self) -> Path:
        return self.settings.landing_dir

    def write(self, relative: str, content: str | bytes) -> str:
        path = self.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return relative

    def extract(self, *entities: str, load_id: str = "L1") -> dict[str, dict]:
        """Run the pipeline's extract step for `entities`; per-file results keyed by file."""
        pipeline.prepare_warehouse(self.settings)
        files = {}
        for entity in entities:
            result = pipeline.extract_entity(self.settings, entity, load_id)
            files |= {f["file"]: f for f in result["files"]}
        return files

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def loaded_ids(self, file: str, key: str = "order_id", table: str = "shop__orders") -> list[str]:
        return [r[0] for r in self.rows(f'select "{key}" from raw.{table} where _file = ? order by _line', [file])]

    def reasons(self, file: str) -> dict[int | None, str]:
        return dict(self.rows("select line, reason from raw.quarantine where file = ?", [file]))

    def assert_accounted(self) -> None:
        """Every file's latest delivery: rows in = loaded + quarantined = its rows in raw + in quarantine."""
        assert_accounted(self.settings.warehouse)


def assert_accounted(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        deliveries = con.execute(
            "select source, entity, file, delivery_hash, rows_in, rows_loaded, rows_quarantined "
            "from raw._deliveries qualify row_number() over (partition by file order by loaded_at desc) = 1"
        ).fetchall()
        assert deliveries, "no delivery was logged"
        for source, entity, file, delivery, rows_in, loaded, quarantined in deliveries:
            [(in_raw,)] = con.execute(f"select count(*) from raw.{source}__{entity} "
                                      "where _file = ? and _delivery_hash = ?", [file, delivery]).fetchall()
            [(in_quarantine,)] = con.execute("select count(*) from raw.quarantine where file = ? "
                                             "and delivery_hash = ?", [file, delivery]).fetchall()
            assert rows_in == loaded + quarantined, file
            assert (loaded, quarantined) == (in_raw, in_quarantine), file


def corpus_settings(root: Path, source_timezone: str = "UTC") -> Settings:
    return replace(
        Settings.from_env(),
        landing_dir=root / "landing",
        warehouse=root / "warehouse.duckdb",
        reports_dir=root / "reports",
        models_dir=root / "models",
        dbt_target_dir=root / "target",
        as_of=None,
        default_country="US",
        source_timezone=source_timezone,
        default_currency="USD",
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    return Corpus(corpus_settings(tmp_path))

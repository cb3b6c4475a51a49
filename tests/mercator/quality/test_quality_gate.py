"""The quality gate on a real DuckDB file with the committed GX project (copied to a temp dir)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from mercator.contract import entity, raw_table_ddl
from mercator.quality import QualityGateFailed, gate, run_suite, run_suites
from mercator.quality.project import PROJECT_DIR, open_context
from mercator.quality.suites import SUITES, WARNING

RAW = ("raw_shop_orders", "raw_crm_contacts")

GOOD_ORDERS = """
    insert into raw.shop__orders
        (order_id, ordered_at, total_amount, currency, status, refunded_amount, _file, _line)
    select 'o' || i, timestamptz '2026-01-01 00:00:00+00' + to_days(i::int), 10 + i % 90, 'USD',
        case when i % 10 = 0 then 'refunded' else 'paid' end, case when i % 10 = 0 then 10 else 0 end,
        'orders.csv', i
    from range(500) as t(i)
"""
GOOD_CONTACTS = """
    insert into raw.crm__contacts
        (contact_id, email, first_name, created_at, updated_at, email_consent, _file, _line)
    select 'c' || i, 'person' || i || '@example.com', 'Name' || i, timestamptz '2025-01-01 00:00:00+00',
        timestamptz '2025-06-01 00:00:00+00', case when i % 3 = 0 then 'granted' else 'unknown' end,
        'contacts.csv', i
    from range(50) as t(i)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("gx") / "expectations"
    shutil.copytree(PROJECT_DIR, target, ignore=shutil.ignore_patterns("uncommitted"))
    return target


def make_warehouse(
    path: Path, *statements: str, entities: tuple[str, ...] = ("shop/orders", "crm/contacts")
) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists raw")
        for e in entities:
            con.execute(raw_table_ddl(entity(e)))
        for statement in statements:
            con.execute(statement)
    return path


def test_clean_raw_data_passes_and_is_recorded(tmp_path, project):
    warehouse = make_warehouse(tmp_path / "w.duckdb", GOOD_ORDERS, GOOD_CONTACTS)

    results = run_suites(warehouse, RAW, tmp_path / "reports", project)
    gate(results)

    assert [(r.suite, r.status) for r in results] == [(s, "passed") for s in RAW]
    assert results[0].statistics["evaluated_expectations"] == len(SUITES["raw_shop_orders"].checks)
    last_run = json.loads((tmp_path / "reports" / "quality" / "last_run.json").read_text())
    assert {s: v["status"] for s, v in last_run["suites"].items()} == dict.fromkeys(RAW, "passed")
    assert (tmp_path / "reports" / "quality" / "data_docs" / "index.html").exists()
    with duckdb.connect(str(warehouse)) as con:  # GX released its read-only connection
        con.execute("create table raw.after_gate as select 1 as x")


def test_broken_critical_expectation_fails_the_gate(tmp_path, project):
    warehouse = make_warehouse(
        tmp_path / "w.duckdb",
        GOOD_ORDERS,
        "update raw.shop__orders set total_amount = -5 where _line < 3",
        "update raw.shop__orders set ordered_at = null where _line = 7",
    )

    result = run_suite(warehouse, "raw_shop_orders", tmp_path / "reports", project)

    assert result.status == "failed" and not result.success
    assert any("total_amount" in f and "3 of 500" in f for f in result.critical_failures)
    assert any("ordered_at" in f for f in result.critical_failures)
    with pytest.raises(QualityGateFailed, match="raw_shop_orders"):
        gate([result])


def test_warning_only_failure_passes_with_warnings(tmp_path, project):
    warehouse = make_warehouse(
        tmp_path / "w.duckdb",
        GOOD_ORDERS,
        "update raw.shop__orders set status = 'lost_in_post' where _line < 4",
    )

    result = run_suite(warehouse, "raw_shop_orders", None, project)

    gate([result])
    assert result.status == "passed_with_warnings" and result.success
    assert result.critical_failures == []
    assert len(result.warnings) == 1 and "status" in result.warnings[0] and "4 of 500" in result.warnings[0]


def test_absent_or_empty_tables_are_skipped_not_failed(tmp_path, project):
    warehouse = make_warehouse(tmp_path / "w.duckdb", GOOD_ORDERS, entities=("shop/orders",))

    results = run_suites(warehouse, [*RAW, "marts_dim_customers"], tmp_path / "reports", project)
    gate(results)

    statuses = {r.suite: r.status for r in results}
    assert statuses == {
        "raw_shop_orders": "passed",
        "raw_crm_contacts": "skipped",
        "marts_dim_customers": "skipped",
    }
    assert all(r.reason.startswith("skipped: no data") for r in results if r.status == "skipped")


def test_empty_table_after_a_delivery_with_rows_fails(tmp_path, project):
    warehouse = make_warehouse(
        tmp_path / "w.duckdb",
        "create table raw._deliveries (source varchar, entity varchar, file varchar, rows_in bigint)",
        "insert into raw._deliveries values ('shop', 'orders', 'orders.csv', 20)",
    )

    result = run_suite(warehouse, "raw_shop_orders", None, project)

    assert result.status == "failed"
    assert any("row_count" in f for f in result.critical_failures)


def test_dim_customers_duplicate_key_and_unknown_consent_are_critical(tmp_path, project):
    warehouse = make_warehouse(
        tmp_path / "w.duckdb",
        "create schema marts",
        """create table marts.dim_customers as
           select 'k' || (i % 9) as customer_key,
               case when i = 0 then 'maybe' else 'granted' end as email_consent,
               'unknown' as sms_consent, 'revoked' as push_consent, 1 as order_count, 20.0 as net_revenue,
               timestamp '2026-01-01' as first_order_at, timestamp '2026-02-01' as last_order_at
           from range(10) as t(i)""",
        entities=(),
    )

    result = run_suite(warehouse, "marts_dim_customers", None, project)

    assert result.status == "failed"
    failed = " ".join(result.critical_failures)
    assert "expect_column_values_to_be_unique(customer_key)" in failed
    assert "expect_column_values_to_be_in_set(email_consent)" in failed


def test_committed_project_matches_suite_definitions(tmp_path, project):
    context = open_context(project)
    for spec in SUITES.values():
        committed = context.suites.get(spec.name).expectations
        assert len(committed) == len(spec.checks), f"rerun `python -m mercator.quality.project` ({spec.name})"
        for expectation, check in zip(committed, spec.checks, strict=True):
            assert expectation.expectation_type == _snake(check.expectation)
            assert check.kwargs.items() <= expectation.configuration.kwargs.items()
            assert expectation.meta == {"severity": check.severity}
        assert context.checkpoints.get(spec.name).validation_definitions[0].suite.name == spec.name
    assert any(c.severity == WARNING for s in SUITES.values() for c in s.checks)


def _snake(name: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")

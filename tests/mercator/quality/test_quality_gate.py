"""The quality gate on real DuckDB files with the committed GX project (copied to a temp dir)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from mercator import pipeline
from mercator.config import Settings
from mercator.contract import ENTITIES
from mercator.quality import QualityGateFailed, gate, run_suite, run_suites
from mercator.quality.runner import QualityParams, expectation_parameters
from mercator.quality.suites import FRESH_SINCE, LATEST_ALLOWED, SUITES

from tests.mercator.quality.warehouses import (
    AS_OF,
    GOOD_CONTACTS,
    GOOD_ITEMS,
    GOOD_MARTS,
    GOOD_ORDERS,
    make_warehouse,
)

RAW = ("raw_shop_orders", "raw_shop_order_items", "raw_crm_contacts")
MARTS = ("marts_dim_customers", "marts_fct_orders", "marts_customer_rfm", "marts_audience_at_risk_email")


def test_clean_raw_data_passes_and_is_recorded(tmp_path, project):
    warehouse = make_warehouse(tmp_path / "w.duckdb", GOOD_ORDERS, GOOD_ITEMS, GOOD_CONTACTS)

    results = run_suites(warehouse, RAW, tmp_path / "reports", project, as_of=AS_OF)
    gate(results)

    assert [(r.suite, r.status) for r in results] == [(s, "passed") for s in RAW], results
    assert results[0].statistics["evaluated_expectations"] == len(SUITES["raw_shop_orders"].checks)
    last_run = json.loads((tmp_path / "reports" / "quality" / "last_run.json").read_text())
    assert {s: v["status"] for s, v in last_run["suites"].items()} == dict.fromkeys(RAW, "passed")
    with duckdb.connect(str(warehouse)) as con:  # GX released its read-only connection
        con.execute("create table raw.after_gate as select 1 as x")


def test_broken_critical_expectation_on_a_raw_entity_stops_the_gate(tmp_path, project):
    warehouse = make_warehouse(
        tmp_path / "w.duckdb",
        GOOD_ORDERS,
        GOOD_CONTACTS,
        "update raw.shop__orders set ordered_at = null where _line in (7, 8)",
        "alter table raw.crm__contacts drop column updated_at",
    )

    results = run_suites(warehouse, ["raw_shop_orders", "raw_crm_contacts"], None, project, as_of=AS_OF)

    assert [r.status for r in results] == ["failed", "failed"]
    assert any("not_be_null(ordered_at)" in f and "2 of 500" in f for f in results[0].critical_failures)
    assert any("expect_table_columns_to_match_set" in f and "updated_at" in f for f in results[1].critical_failures)
    with pytest.raises(QualityGateFailed, match="raw_shop_orders(.|\n)*raw_crm_contacts"):
        gate(results)


def test_warnings_let_the_run_go_on_and_are_returned_by_the_task(tmp_path):
    warehouse = make_warehouse(
        tmp_path / "w.duckdb",
        GOOD_ORDERS,
        GOOD_ITEMS,
        GOOD_CONTACTS,
        "update raw.shop__orders set status = 'lost_in_post' where _line < 4",
        "update raw.crm__contacts set sms_consent = 'yes please' where _line = 0",
        "update raw.shop__orders set _loaded_at = now() - interval 2 hour",
        "update raw.shop__order_items set _loaded_at = now() - interval 2 hour",
        "update raw.crm__contacts set _loaded_at = now() - interval 5 day",  # no CRM delivery for 5 days
        entities=tuple(e.path for e in ENTITIES),  # as prepare_warehouse leaves it
    )
    settings = replace(Settings.from_env(), warehouse=warehouse, reports_dir=tmp_path / "reports", as_of=AS_OF)

    outcome = pipeline.check_raw(settings)  # the committed project, as the DAG task runs it

    assert outcome["status"]["raw_shop_orders"] == "passed_with_warnings"
    (warning,) = outcome["warnings"]["raw_shop_orders"]
    assert "status" in warning and "4 of 500" in warning and "lost_in_post" in warning
    assert outcome["status"]["raw_crm_contacts"] == "passed_with_warnings"
    assert "sms_consent" in outcome["warnings"]["raw_crm_contacts"][0]
    assert set(pipeline.RAW_SUITES) == {s for s in SUITES if s.startswith("raw_")}
    assert set(outcome["status"]) == {*pipeline.RAW_SUITES, "dbt_source_freshness"}
    (stale_load,) = outcome["warnings"]["dbt_source_freshness"]  # entities never delivered are left out
    assert stale_load.startswith("raw.crm__contacts: last delivery loaded") and "5.0 days" in stale_load
    last_run = json.loads((tmp_path / "reports" / "quality" / "last_run.json").read_text())["suites"]
    assert last_run["dbt_source_freshness"]["status"] == "passed_with_warnings"


def test_referential_check_catches_order_items_without_an_order(tmp_path, project):
    warehouse = make_warehouse(
        tmp_path / "w.duckdb",
        GOOD_ORDERS,
        GOOD_ITEMS,
        "delete from raw.shop__orders where _line in (1, 2)",
    )

    result = run_suite(warehouse, "raw_shop_order_items", None, project, as_of=AS_OF)

    assert result.status == "passed_with_warnings"
    (warning,) = result.warnings
    assert "every order item belongs to a delivered order" in warning and "2 rows unexpected" in warning


def test_freshness_flags_stale_data(tmp_path, project):
    warehouse = make_warehouse(tmp_path / "w.duckdb", GOOD_ORDERS, GOOD_ITEMS)
    params = QualityParams(freshness_days=7)
    stale_as_of = (date.fromisoformat(AS_OF) + timedelta(days=8)).isoformat()

    fresh = run_suite(warehouse, "raw_shop_orders", None, project, as_of=AS_OF, params=params)
    stale = run_suite(warehouse, "raw_shop_orders", None, project, as_of=stale_as_of, params=params)

    assert fresh.status == "passed"
    assert stale.status == "passed_with_warnings"
    (warning,) = stale.warnings
    fresh_since = date.fromisoformat(stale_as_of) - timedelta(days=7)
    assert "expect_column_max_to_be_between(ordered_at)" in warning and f">= {fresh_since}" in warning


def test_a_date_in_the_future_beyond_the_tolerance_is_caught(tmp_path, project):
    now = datetime.now(UTC)
    warehouse = make_warehouse(tmp_path / "w.duckdb", GOOD_ORDERS, GOOD_ITEMS)
    params = QualityParams(future_tolerance_days=1, freshness_days=10_000)

    def with_latest_order_at(moment: datetime):
        with duckdb.connect(str(warehouse)) as con:
            con.execute("update raw.shop__orders set ordered_at = ? where _line = 0", [moment])
        return run_suite(warehouse, "raw_shop_orders", None, project, params=params)

    within = with_latest_order_at(now + timedelta(hours=12))
    beyond = with_latest_order_at(now + timedelta(days=3))

    assert within.status == "passed", within
    assert beyond.status == "passed_with_warnings"
    expected_bound = (now.date() + timedelta(days=1)).isoformat()
    assert any("ordered_at" in w and f"<= {expected_bound}" in w for w in beyond.warnings), beyond.warnings


def test_run_parameters_count_freshness_from_as_of_and_the_future_from_today():
    today = date(2026, 5, 10)
    params = QualityParams(future_tolerance_days=2, freshness_days=5)

    backfill = expectation_parameters("2026-01-31", params, today)
    daily = expectation_parameters(None, params, today)

    assert backfill == {FRESH_SINCE: date(2026, 1, 26), LATEST_ALLOWED: date(2026, 5, 12)}
    assert daily == {FRESH_SINCE: date(2026, 5, 5), LATEST_ALLOWED: date(2026, 5, 12)}


def test_absent_or_empty_tables_are_skipped_not_failed(tmp_path, project):
    warehouse = make_warehouse(tmp_path / "w.duckdb", GOOD_ORDERS, entities=("shop/orders", "crm/contacts"))

    results = run_suites(warehouse, [*RAW, "marts_dim_customers"], tmp_path / "reports", project, as_of=AS_OF)
    gate(results)

    statuses = {r.suite: r.status for r in results}
    assert statuses == {
        "raw_shop_orders": "passed",
        "raw_shop_order_items": "skipped",
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


def test_good_marts_pass_the_mart_gate(tmp_path, project):
    warehouse = make_warehouse(tmp_path / "w.duckdb", *GOOD_MARTS, entities=())

    results = run_suites(warehouse, MARTS, None, project)
    gate(results)

    assert {r.suite: r.status for r in results} == dict.fromkeys(MARTS, "passed"), results


@pytest.mark.parametrize(
    ("suite_name", "breakage", "failure"),
    [
        (
            "marts_dim_customers",
            "insert into marts.dim_customers select * from marts.dim_customers where customer_key = 'k3'",
            "expect_column_values_to_be_unique(customer_key)",
        ),
        (
            "marts_dim_customers",
            "update marts.dim_customers set sms_consent = 'opted_in' where customer_key = 'k4'",
            "expect_column_values_to_be_in_set(sms_consent)",
        ),
        (
            "marts_dim_customers",
            "update marts.dim_customers set ads_consent = null where customer_key = 'k4'",
            "expect_column_values_to_not_be_null(ads_consent)",
        ),
        (
            "marts_customer_rfm",
            "insert into marts.customer_rfm select * from marts.customer_rfm where customer_key = 'k1'",
            "expect_column_values_to_be_unique(customer_key)",
        ),
        (
            "marts_fct_orders",
            "update marts.fct_orders set customer_key = 'nobody' where order_key = 'ok5'",
            "every order has a customer in dim_customers or is anonymous",
        ),
        (
            "marts_audience_at_risk_email",
            "update marts.dim_customers set email_consent = 'revoked' where customer_key = 'k2'",
            "every member has granted email consent",
        ),
    ],
)
def test_mart_invariant_violations_fail_the_mart_gate(tmp_path, project, suite_name, breakage, failure):
    warehouse = make_warehouse(tmp_path / "w.duckdb", *GOOD_MARTS, breakage, entities=())

    result = run_suite(warehouse, suite_name, None, project)

    assert result.status == "failed"
    assert any(failure in f for f in result.critical_failures), result.critical_failures
    with pytest.raises(QualityGateFailed, match=suite_name):
        gate([result])


@pytest.mark.parametrize(
    ("suite_name", "breakage", "warning"),
    [
        (
            "marts_customer_rfm",
            "update marts.customer_rfm set m_score = 6 where customer_key = 'k2'",
            "expect_column_values_to_be_in_set(m_score): 1 of",
        ),
        (
            "marts_fct_orders",
            "update marts.fct_orders set net_amount = -1 where order_key = 'ok5'",
            "expect_column_values_to_be_between(net_amount): 1 of",
        ),
    ],
)
def test_mart_values_that_harm_no_one_warn_and_name_column_and_rows(tmp_path, project, suite_name, breakage, warning):
    """A wrong score or amount misinforms but sends nothing wrong: the gate warns, activation goes on."""
    warehouse = make_warehouse(tmp_path / "w.duckdb", *GOOD_MARTS, breakage, entities=())

    result = run_suite(warehouse, suite_name, None, project)

    assert result.status == "passed_with_warnings" and not result.critical_failures
    assert any(w.startswith(warning) for w in result.warnings), result.warnings
    gate([result])

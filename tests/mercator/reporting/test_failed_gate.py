"""The dashboard after a failed or skipped gate: which gate, suite, check and rows at the top; a section
whose marts failed shows its last good copy labelled with its as-of date, or a notice; the rest is
this run's. A small hand-made warehouse and gate records written by the gates' own recorder."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from mercator.quality.runner import SuiteResult, write_gate, write_last_run
from mercator.reporting import build_dashboard

SPEND_CHECK = "expect_column_values_to_be_between(spend): 3 of 40 rows unexpected"
CLV_CHECK = "expect_column_pair_values_a_to_be_greater_than_b(clv_upper): 11 of 36 rows unexpected"


def make_warehouse(path, customers: int, as_of: str, revenue: float, model_status: bool = True):
    """Marts for the three sections: `customers` buyers, campaign revenue `revenue` on spend 100."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            f"""create table marts.dim_customers as
                select 'k' || i as customer_key, 'buyer' || i || '@secret.example' as email,
                    (10 + i)::double as clv, 'active' as lifecycle_stage,
                    date '{as_of}' - (i * 5)::integer as last_order_at
                from range({customers}) as t(i)"""
        )
        con.execute(
            f"""create table marts.fct_orders as
                select 'o' || i as order_key, 'k' || (i % {customers}) as customer_key,
                    (20 + i % 3)::decimal(18, 2) as net_amount_reporting, true as is_countable,
                    'USD' as reporting_currency, date '{as_of}' - i::integer as ordered_at
                from range({2 * customers}) as t(i)"""
        )
        con.execute(
            f"""create table marts.customer_rfm as
                select 'k' || i as customer_key, 1 + i % 5 as r_score, 1 + i % 5 as f_score,
                    ['Champions', 'Loyal', 'At risk'][1 + i % 3] as segment, 40.0 as monetary,
                    date '{as_of}' as as_of
                from range({customers}) as t(i)"""
        )
        con.execute(
            f"""create table marts.customer_clv as
                select 'k' || i as customer_key, (10 + i)::double as clv, 0.5 as p_alive,
                    ['light', 'moderate', 'severe'][1 + i % 3] as churn_tier, date '{as_of}' as as_of
                from range({customers}) as t(i)"""
        )
        status = ", status, status_reason, fallback" if model_status else ""
        con.execute(
            f"""create table marts.clv_model_params as
                select * from (values
                    ('bg_nbd', 'r', 'heuristic', 0.4, date '{as_of}', 'too_thin',
                     'Only 12 repeat buyers: too few to fit BG/NBD.', 'shrunk_rate_heuristic'),
                    ('gamma_gamma', 'p', 'mle', 6.0, date '{as_of}', 'fitted', null, null)
                ) as t(model, parameter, method, value, as_of{status})"""
            if model_status
            else f"""create table marts.clv_model_params as
                select 'bg_nbd' as model, 'r' as parameter, 'mle' as method, 0.4 as value, date '{as_of}' as as_of"""
        )
        con.execute(
            """create table marts.attribution_by_channel as select * from (values
               ('Paid Search', 'markov', 0.6), ('Paid Search', 'last_touch', 0.5),
               ('Email', 'markov', 0.4), ('Email', 'last_touch', 0.5)) as t(channel, model, conversion_share)"""
        )
        con.execute(
            f"""create table marts.channel_performance as select * from (values
                ('Paid Search', 'search_brand', 'markov', 100.0, 4.0, {revenue}, 2.0),
                ('Paid Search', 'search_brand', 'last_touch', 100.0, 3.0, {revenue}, 1.0))
                as t(channel, campaign, model, spend, conversions, revenue, new_customers)"""
        )
        con.execute(
            """create table marts.attribution_paths as select * from (values
               ('Paid Search > Email', 7, 3, 300.0)) as t(path, conversions, non_conversions, conversion_value)"""
        )
    return path


def record(reports, gate: str, run_id: str, failures: dict[str, tuple[str, str]] | None = None) -> None:
    """What a gate records for a run: `failures` maps a suite to (its table, one critical failure)."""
    results = [
        SuiteResult(suite, table, False, "failed", [check]) for suite, (table, check) in (failures or {}).items()
    ] or [SuiteResult(f"{gate}_ok", f"{gate}.ok", True, "passed")]
    write_last_run(results, reports / "quality")
    write_gate(gate, run_id, results, reports / "quality")


def slot(html: str, section: str) -> tuple[str, str]:
    """(how the section is shown, its HTML) for one section's slot of the page."""
    end = html.index("<h2>Data quality, last run</h2>")
    match = re.search(rf'<div class="slot" data-section="{section}" data-shown="(\w+)">(.*?)(?=<div class="slot"|\Z)',
                      html[:end], re.S)
    assert match, f"no slot for {section}"
    return match.group(1), match.group(2)


@pytest.fixture
def good_run(tmp_path):
    """Run 1 passed both gates on data as of 2026-10-30: its sections are the last good copies."""
    warehouse, reports = tmp_path / "w.duckdb", tmp_path / "reports"
    make_warehouse(warehouse, customers=20, as_of="2026-10-30", revenue=250.0)
    record(reports, "raw", "run-1")
    record(reports, "marts", "run-1")
    html = build_dashboard(warehouse, reports, "run-1", {"quality_marts.validate_marts": "success"})
    assert [slot(html.read_text(), s)[0] for s in ("overview", "clv", "attribution")] == ["current"] * 3
    make_warehouse(warehouse, customers=36, as_of="2026-10-31", revenue=900.0)  # run 2's marts
    return warehouse, reports


def test_failed_mart_gate_banner_names_gate_suite_check_and_rows(good_run):
    warehouse, reports = good_run
    record(reports, "raw", "run-2")
    record(reports, "marts", "run-2", {"marts_channel_performance": ("marts.channel_performance", SPEND_CHECK)})
    states = {"quality_marts.validate_marts": "failed", "activate.plan_syncs": "upstream_failed"}

    html = build_dashboard(warehouse, reports, "run-2", states).read_text()

    banner = html[html.index('id="run-status"'):html.index('class="slot"')]  # above every section
    assert "This run failed" in banner
    assert 'data-gate="marts" data-gate-status="failed"' in banner and "The mart gate failed" in banner
    assert "quality_marts.validate_marts" in banner and "activation was blocked" in banner
    assert f"marts_channel_performance (marts.channel_performance): {SPEND_CHECK}" in banner
    assert 'data-gate="raw" data-gate-status="passed"' in banner
    assert "Not run because an earlier step failed: activate.plan_syncs" in banner
    assert "data-failed-task" not in banner  # the gate's failure is named as such, not as a crashed step
    assert "secret.example" not in html


def test_failed_section_shows_its_last_good_copy_labelled_with_its_as_of_date(good_run):
    warehouse, reports = good_run
    record(reports, "marts", "run-2", {"marts_channel_performance": ("marts.channel_performance", SPEND_CHECK)})

    html = build_dashboard(warehouse, reports, "run-2", {"quality_marts.validate_marts": "failed"}).read_text()

    shown, section = slot(html, "attribution")
    assert shown == "last_good"
    assert "Last good numbers, as of 2026-10-30 (run run-1), not from this run" in section
    assert "critical failures in marts_channel_performance" in section
    assert 'data-roas="search_brand">2.50<' in section  # run 1's ROAS 250 / 100
    assert 'data-roas="search_brand">9.00<' not in html  # this run's, which failed the gate
    assert "Attribution: last good numbers shown, as of 2026-10-30" in html
    assert "secret.example" not in html


def test_sections_whose_marts_passed_show_this_runs_numbers(good_run):
    warehouse, reports = good_run
    record(reports, "marts", "run-2", {"marts_channel_performance": ("marts.channel_performance", SPEND_CHECK)})

    html = build_dashboard(warehouse, reports, "run-2", {"quality_marts.validate_marts": "failed"}).read_text()

    shown, overview = slot(html, "overview")
    assert shown == "current" and 'data-kpi="Customers">36<' in overview and 'data-kpi="As of">2026-10-31<' in overview
    shown, clv = slot(html, "clv")
    assert shown == "current" and "36 customers with a purchase" in clv
    assert "Last good" not in overview + clv


def test_a_failed_section_without_a_last_good_copy_is_withheld_with_the_reason(tmp_path):
    warehouse = make_warehouse(tmp_path / "w.duckdb", customers=36, as_of="2026-10-31", revenue=900.0)
    reports = tmp_path / "reports"
    record(reports, "marts", "run-1", {"marts_customer_clv": ("marts.customer_clv", CLV_CHECK)})

    html = build_dashboard(warehouse, reports, "run-1", {"quality_marts.validate_marts": "failed"}).read_text()

    shown, clv = slot(html, "clv")
    assert shown == "withheld"
    assert "Customer value: withheld" in clv and "critical failures in marts_customer_clv" in clv
    assert "data-value-at-risk" not in html and "36 customers with a purchase" not in html
    assert slot(html, "attribution")[0] == slot(html, "overview")[0] == "current"
    assert not (reports / "last_good").exists()  # a failed run leaves no last good copy


def test_a_gate_that_did_not_run_in_this_run_is_never_shown_with_an_earlier_status(good_run):
    warehouse, reports = good_run  # run 1's gates passed; run 2 stopped at dbt, before either gate
    states = {"transform.dbt_build": "failed", "transform.dbt_build_scored": "upstream_failed",
              "quality_marts.validate_marts": "upstream_failed", "activate.plan_syncs": "upstream_failed"}

    html = build_dashboard(warehouse, reports, "run-2", states).read_text()

    banner = html[html.index('id="run-status"'):html.index('class="slot"')]
    assert 'data-gate="marts" data-gate-status="not_run"' in banner and "The mart gate: not run in this run" in banner
    assert 'data-gate="raw" data-gate-status="not_run"' in banner and "passed" not in banner.replace("passed_", "")
    assert 'data-failed-task="transform.dbt_build"' in banner and "Run stopped at transform.dbt_build" in banner
    for section in ("overview", "clv", "attribution"):
        shown, part = slot(html, section)
        assert shown == "last_good" and "as of 2026-10-30 (run run-1)" in part and "did not run in this run" in part
    assert 'data-kpi="Customers">20<' in html and 'data-kpi="Customers">36<' not in html


def test_a_run_that_failed_before_creating_the_warehouse_still_gets_a_dashboard(tmp_path):
    html = build_dashboard(tmp_path / "absent.duckdb", tmp_path / "reports", "run-1",
                           {"prepare_warehouse": "failed", "quality_raw.validate_raw": "upstream_failed"}).read_text()

    assert "Run stopped at prepare_warehouse" in html and "The raw gate: not run in this run" in html
    assert [slot(html, s)[0] for s in ("overview", "clv", "attribution")] == ["withheld"] * 3


def test_clv_models_not_fitted_warn_in_the_section_and_the_banner(good_run):
    warehouse, reports = good_run
    record(reports, "raw", "run-2")
    record(reports, "marts", "run-2")

    html = build_dashboard(warehouse, reports, "run-2", {}).read_text()

    _, clv = slot(html, "clv")
    assert 'data-clv-model="bg_nbd" data-clv-status="too_thin"' in clv and "shrunk rate heuristic" in clv
    assert "data-clv-model=\"gamma_gamma\"" not in html  # fitted
    banner = html[html.index('id="run-status"'):html.index('class="slot"')]
    assert "CLV model bg_nbd is too_thin (as of 2026-10-31), fallback shrunk_rate_heuristic" in banner


def test_clv_model_status_columns_absent_show_no_warning(tmp_path):
    warehouse = make_warehouse(tmp_path / "w.duckdb", customers=5, as_of="2026-10-31", revenue=1.0,
                               model_status=False)

    html = build_dashboard(warehouse, tmp_path / "reports").read_text()

    assert 'id="clv"' in html and 'class="model-warnings"' not in html and 'id="run-status"' not in html


def test_gates_record_their_own_entry_beside_the_suites(tmp_path):
    quality = tmp_path / "quality"
    record(tmp_path, "raw", "run-1")
    record(tmp_path, "marts", "run-2", {"marts_customer_clv": ("marts.customer_clv", CLV_CHECK)})

    state = json.loads((quality / "last_run.json").read_text())

    assert state["gates"]["raw"]["run_id"] == "run-1" and state["gates"]["raw"]["status"] == "passed"
    marts = state["gates"]["marts"]
    assert (marts["gate"], marts["run_id"], marts["status"]) == ("marts", "run-2", "failed") and marts["checked_at"]
    assert marts["failures"] == [{"suite": "marts_customer_clv", "table": "marts.customer_clv",
                                  "critical_failures": [CLV_CHECK]}]
    assert {"raw_ok", "marts_customer_clv"} <= set(state["suites"])

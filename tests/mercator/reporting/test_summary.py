"""`python -m mercator.summary`: each gate of the last run with its failing checks, the step it stopped
at, the sections not from this run, the CLV models that are not fitted, the dashboard's path."""

from __future__ import annotations

import re
import subprocess
import sys

from mercator.reporting import build_dashboard

from tests.mercator.reporting.test_failed_gate import SPEND_CHECK, make_warehouse, record


def _summary(warehouse, reports) -> str:
    env = {"MERCATOR_WAREHOUSE": str(warehouse), "MERCATOR_REPORTS": str(reports), "PATH": ""}
    proc = subprocess.run([sys.executable, "-m", "mercator.summary"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_summary_prints_the_failed_gate_its_checks_the_stale_sections_and_the_clv_warnings(tmp_path):
    warehouse, reports = tmp_path / "w.duckdb", tmp_path / "reports"
    make_warehouse(warehouse, customers=20, as_of="2026-10-30", revenue=250.0)
    record(reports, "raw", "run-1")
    record(reports, "marts", "run-1")
    build_dashboard(warehouse, reports, "run-1", {})
    record(reports, "raw", "run-2")
    record(reports, "marts", "run-2", {"marts_channel_performance": ("marts.channel_performance", SPEND_CHECK)})
    build_dashboard(warehouse, reports, "run-2", {"quality_marts.validate_marts": "failed",
                                                   "activate.plan_syncs": "upstream_failed"})

    text = _summary(warehouse, reports)

    gates = r"run:\s+run-2\n\s+raw gate:\s+passed\n\s+mart gate:\s+failed\n"
    failure = r"\s+marts_channel_performance \(marts.channel_performance\): " + re.escape(SPEND_CHECK)
    assert re.search(gates + failure, text)
    assert re.search(r"not run:\s+activate.plan_syncs", text)
    assert re.search(r"dashboard attribution:\s+last good numbers as of 2026-10-30", text)
    assert "CLV model bg_nbd is too_thin (as of 2026-10-30), fallback shrunk_rate_heuristic" in text
    assert "gamma_gamma" not in text
    assert "counts below come from marts that did not pass the mart gate" in text
    assert f"Dashboard: {reports / 'dashboard.html'}" in text


def test_summary_without_a_run_or_a_warehouse_still_names_the_dashboard(tmp_path):
    text = _summary(tmp_path / "absent.duckdb", tmp_path / "reports")

    assert "run status:" in text and "not recorded" in text
    assert f"Dashboard: {tmp_path / 'reports' / 'dashboard.html'}" in text

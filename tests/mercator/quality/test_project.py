"""The GX project: a suite for every landing entity and public mart, committed as generated, and
Data Docs written next to the dashboard, never into the repository."""

from __future__ import annotations

import re
from pathlib import Path

from mercator.config import REPO_ROOT
from mercator.contract import ENTITIES
from mercator.quality import run_suites
from mercator.quality.project import PROJECT_DIR, open_context, run_context
from mercator.quality.suites import CRITICAL, SUITES, WARNING
from mercator.reporting import build_dashboard

from tests.mercator.quality.warehouses import AS_OF, GOOD_MARTS, GOOD_ORDERS, make_warehouse

MODELS_DIR = REPO_ROOT / "dbt_project" / "models"


def test_every_contract_entity_has_a_raw_suite():
    tables = {s.table: s for s in SUITES.values()}
    for e in ENTITIES:
        spec = tables.get(f"raw.{e.raw_table}")
        assert spec is not None, f"no quality suite for landing entity {e.path}"
        assert spec.entity_path == e.path


def test_every_public_mart_has_a_suite():
    """A new model under dbt_project/models/marts or audiences needs a SuiteSpec in mercator.quality.suites."""
    marts = {path.stem for folder in ("marts", "audiences") for path in (MODELS_DIR / folder).rglob("*.sql")}
    covered = {s.table.removeprefix("marts.") for s in SUITES.values() if s.schema == "marts"}
    assert {"dim_customers", "fct_orders", "customer_rfm", "audience_at_risk_email"} <= marts
    assert marts - covered == set(), "marts without a quality suite"


def test_every_suite_checks_schema_and_says_how_severe_each_failure_is():
    for spec in SUITES.values():
        assert spec.checks[0].expectation in ("ExpectTableRowCountToBeBetween", "ExpectTableColumnsToMatchSet")
        assert any(c.expectation == "ExpectTableColumnsToMatchSet" for c in spec.checks), spec.name
        assert {c.severity for c in spec.checks} <= {CRITICAL, WARNING}
        assert any(c.severity == CRITICAL for c in spec.checks), spec.name


def test_committed_project_matches_suite_definitions(project, tmp_path):
    with run_context(tmp_path / "empty.duckdb", tmp_path / "output"):
        context = open_context(project)
    assert {s.name for s in context.suites.all()} == set(SUITES)
    for spec in SUITES.values():
        committed = context.suites.get(spec.name).expectations
        assert len(committed) == len(spec.checks), f"rerun `python -m mercator.quality.project` ({spec.name})"
        for expectation, check in zip(committed, spec.checks, strict=True):
            assert expectation.expectation_type == _snake(check.expectation)
            assert check.kwargs.items() <= expectation.configuration.kwargs.items()
            assert expectation.meta == {"severity": check.severity}
        assert context.checkpoints.get(spec.name).validation_definitions[0].suite.name == spec.name


def test_data_docs_land_in_the_reports_dir_and_the_dashboard_links_them(tmp_path, project):
    warehouse = make_warehouse(tmp_path / "w.duckdb", GOOD_ORDERS, *GOOD_MARTS, entities=("shop/orders",))
    reports = tmp_path / "reports"
    before = _tree(PROJECT_DIR)

    run_suites(warehouse, ["raw_shop_orders"], reports, PROJECT_DIR, as_of=AS_OF)
    run_suites(warehouse, ["raw_shop_orders"], reports, PROJECT_DIR, as_of=AS_OF)  # replaces the first
    run_suites(warehouse, ["marts_dim_customers", "marts_customer_rfm"], reports, PROJECT_DIR)
    # the quality section reads last_run.json only: an empty warehouse keeps this test about it
    html = build_dashboard(make_warehouse(tmp_path / "empty.duckdb", entities=()), reports).read_text()

    assert _tree(PROJECT_DIR) == before, "a run wrote into the committed GX project"
    docs = reports / "quality" / "data_docs"
    assert len(list((docs / "validations" / "raw_shop_orders").rglob("*.html"))) == 1
    assert len(list((reports / "quality" / "validations" / "raw_shop_orders").rglob("*.json"))) == 1
    links = re.findall(r'href="([^"#]+)"', html)
    assert "quality/data_docs/index.html" in links
    suite_pages = [link for link in links if "/validations/" in link]
    assert {link.split("/")[3] for link in suite_pages} == {
        "raw_shop_orders", "marts_dim_customers", "marts_customer_rfm"
    }
    assert all((reports / link).is_file() for link in suite_pages + ["quality/data_docs/index.html"])


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


def _snake(name: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")

"""The dashboard in a real browser (headless Debian Chromium through Playwright), offline: nothing
requested beyond the file, no console error, every chart drawn, no horizontal scroll on a phone or a
desktop; full-page screenshots kept in reports/test_artefacts/. And its PDF has a non-blank first page."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from mercator.reporting import build_dashboard
from mercator.reporting.browser import CHROMIUM, chromium, open_offline, print_pdf

from tests.mercator.reporting.fixture_warehouse import make_fixture, write_warehouse

ARTEFACTS = Path(__file__).resolve().parents[3] / "reports" / "test_artefacts"
WIDTHS = (390, 1440)



@pytest.fixture(scope="module")
def dashboard(tmp_path_factory) -> Path:
    assert os.access(CHROMIUM, os.X_OK), f"no Chromium at {CHROMIUM}: `make test` installs it (apt-get)"
    root = tmp_path_factory.mktemp("browser")
    return build_dashboard(write_warehouse(root / "w.duckdb", make_fixture()), root / "reports")


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.mark.parametrize("width", WIDTHS)
def test_renders_offline_without_errors_or_horizontal_scroll(browser, dashboard, width):
    page, blocked, errors = open_offline(browser, dashboard, width=width)
    try:
        assert blocked == [] and errors == []
        charts = page.locator("svg.chart")
        assert charts.count() >= 8 + 3 + 2  # sparklines, weekly charts, segment bars and heatmap
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0, i
        for name in ("revenue", "orders", "aov", "new_customers", "returning_share", "repeat_rate", "cac", "roas"):
            assert page.locator(f"#kpi-{name}").is_visible(), name
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTEFACTS / f"dashboard-{width}px.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 10_000
    finally:
        page.close()


def test_charts_have_hover_values(browser, dashboard):
    page, _, _ = open_offline(browser, dashboard)
    try:
        titles = page.locator("svg.chart title")
        assert titles.count() > 100
        assert page.locator("#kpi-revenue svg title").first.text_content().startswith("week to ")
    finally:
        page.close()


def test_pdf_first_page_is_not_blank(browser, dashboard, tmp_path):
    from pypdf import PdfReader

    pdf = print_pdf(dashboard, tmp_path / "dashboard.pdf", browser)
    first = PdfReader(pdf).pages[0]
    assert "Customers and data health" in first.extract_text()
    assert len(first.get_contents().get_data()) > 1000  # drawing operators: tiles, text, charts
    if shutil.which("pdftoppm"):  # and, rendered, not a blank sheet
        subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                       check=True)
        from PIL import Image

        image = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
        assert image.getextrema()[0] < 128  # some dark ink on the page

"""The dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright), offline:
every request that is not `file:` or `data:` is aborted and recorded. Prints it to PDF:

    python -m mercator.reporting.browser reports/dashboard.html reports/dashboard.pdf
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = os.environ.get("MERCATOR_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium browser, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_offline(browser, html: Path, width: int = 1440, height: int = 900):
    """A new page showing `html` from disk; returns (page, blocked requests, console errors)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    blocked: list[str] = []
    errors: list[str] = []

    def route(r) -> None:
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(Path(html).resolve().as_uri(), wait_until="load")
    return page, blocked, errors


def print_pdf(html: Path, pdf: Path, browser=None) -> Path:
    """Print the dashboard to an A4 PDF (backgrounds kept) in `browser` (None: a new one); fails if
    the page asked for the network."""
    if browser is None:
        with chromium() as own:
            return print_pdf(html, pdf, own)
    page, blocked, _ = open_offline(browser, html)
    try:
        page.emulate_media(media="print")
        page.pdf(path=str(pdf), format="A4", print_background=True,
                 margin={"top": "10mm", "bottom": "10mm", "left": "8mm", "right": "8mm"})
    finally:
        page.close()
    if blocked:
        raise RuntimeError(f"the dashboard requested {blocked[:3]}: it must work offline")
    return Path(pdf)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print the dashboard to PDF with headless Chromium.")
    parser.add_argument("html", type=Path, nargs="?", default=Path("reports/dashboard.html"))
    parser.add_argument("pdf", type=Path, nargs="?", default=Path("reports/dashboard.pdf"))
    args = parser.parse_args(argv)
    print(print_pdf(args.html, args.pdf))


if __name__ == "__main__":
    main()

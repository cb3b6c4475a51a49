"""A demo landing directory shared by the generator tests (generated once per session)."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import pytest
from mercator.demo.cli import generate
from mercator.demo.params import DemoParams

SAMPLE = DemoParams(n_customers=5000, seed=11, malformed_share=0.002)


@pytest.fixture(scope="session")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_landing")
    generate(SAMPLE, out, workers=2)
    return out


@functools.cache
def read_rows(landing: Path, path: str) -> list[dict[str, str]]:
    """Every well-formed data row of an entity (malformed rows listed in truth are skipped)."""
    bad = {
        (row["file"], int(row["line"])) for row in csv.DictReader((landing / "truth/malformed.csv").open())
    }
    rows = []
    for file in sorted((landing / path).glob("*.csv")):
        relative = file.relative_to(landing).as_posix()
        with file.open(newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                if (relative, line) not in bad:
                    rows.append(row)
    return rows


@functools.cache
def records(landing: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((landing / "truth/records.csv").open()))

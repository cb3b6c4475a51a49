"""A copy of the committed GX project per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mercator.quality.project import PROJECT_DIR


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """The committed GX project, copied so that a test can never write into the repository."""
    target = tmp_path_factory.mktemp("gx") / "expectations"
    shutil.copytree(PROJECT_DIR, target)
    return target

from __future__ import annotations

import duckdb
import pytest
from mercator.activation import sendgrid_client


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


@pytest.fixture
def sendgrid_waits(monkeypatch) -> list[float]:
    """Every wait the SendGrid client asks for, recorded instead of slept."""
    asked: list[float] = []
    monkeypatch.setattr(sendgrid_client, "sleep", asked.append)
    return asked

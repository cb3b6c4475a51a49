"""Fixtures: a default SendGrid stand-in per test, the real SDK pointed at it."""

from __future__ import annotations

import threading

import pytest
from sendgrid import SendGridAPIClient

from tests.standins.sendgrid_server import SendGridStandin


@pytest.fixture(autouse=True)
def no_threads_left():
    """Every stand-in thread has stopped by the end of each test."""
    before = set(threading.enumerate())
    yield
    assert set(threading.enumerate()) <= before


@pytest.fixture
def sendgrid_standin():
    with SendGridStandin() as server:
        yield server


@pytest.fixture
def sg(sendgrid_standin: SendGridStandin) -> SendGridAPIClient:
    return sendgrid_standin.sdk_client()

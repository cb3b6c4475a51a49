"""Fixtures: default SendGrid and Twilio stand-ins per test, the real SDKs pointed at them."""

from __future__ import annotations

import threading

import pytest
from sendgrid import SendGridAPIClient
from twilio.rest import Client

from tests.standins.sendgrid_server import SendGridStandin
from tests.standins.twilio_server import TwilioStandin


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


@pytest.fixture
def twilio_standin():
    with TwilioStandin() as server:
        yield server


@pytest.fixture
def twilio(twilio_standin: TwilioStandin) -> Client:
    return twilio_standin.sdk_client()

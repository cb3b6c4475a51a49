"""A P-256 signing key per session and an in-process receiver on a free loopback port per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from mercator.events import Config, Receiver

from tests.mercator.events.webhooks import AUTH_TOKEN, SendGridSigner


@pytest.fixture(scope="session")
def signer() -> SendGridSigner:
    return SendGridSigner()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def config(landing: Path, signer: SendGridSigner) -> Config:
    return Config(landing, sendgrid_public_key=signer.public_key, twilio_auth_token=AUTH_TOKEN, flush_interval=0.05)


@pytest.fixture
def receiver(config: Config):
    with Receiver(config) as running:
        yield running

"""The base contract every destination class must keep."""

from __future__ import annotations

import dataclasses

import pytest
from mercator.activation import DESTINATIONS, Destination, SendResult

from tests.mercator.activation.audience_fixtures import AUDIENCE, members, write_audience

SETTINGS = {"outbox": lambda tmp: {"directory": str(tmp / "outbox")}}


@pytest.fixture(params=sorted(DESTINATIONS))
def destination(request, tmp_path) -> Destination:
    return DESTINATIONS[request.param].from_dict(SETTINGS[request.param](tmp_path))


def test_every_destination_has_settings_here():
    assert set(SETTINGS) == set(DESTINATIONS)


def test_config_is_a_typed_dataclass_and_checked(destination):
    assert issubclass(type(destination), Destination)
    assert dataclasses.is_dataclass(destination.config_class)
    with pytest.raises(ValueError, match="unknown settings"):
        type(destination).from_dict({"no_such_setting": 1})
    with pytest.raises(TypeError):
        type(destination)(object())


def test_unsupported_operations_raise_not_implemented(destination):
    for operation in ("send", "remove"):
        if getattr(type(destination), operation) is getattr(Destination, operation):
            with pytest.raises(NotImplementedError):
                getattr(destination, operation)(AUDIENCE, [], "run")


def test_sync_sends_new_members_once_and_a_rerun_again(destination, con):
    rows = members(6, without_email=(2,))
    write_audience(con, rows)
    with_email = sum(1 for r in rows if r[1])

    first = destination.sync(con, AUDIENCE, "scheduled__2026-03-01T00:00:00+00:00")
    rerun = destination.sync(con, AUDIENCE, "scheduled__2026-03-01T00:00:00+00:00")
    next_day = destination.sync(con, AUDIENCE, "scheduled__2026-03-02T00:00:00+00:00")

    assert isinstance(first, SendResult)
    assert (first.sent, first.without_email) == (with_email, len(rows) - with_email)
    assert rerun.sent == first.sent
    assert (next_day.sent, next_day.unchanged) == (0, with_email)
    assert first.summary()["destination"] == destination.name

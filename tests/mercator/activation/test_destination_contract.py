"""The contract every destination keeps, one test parametrised over every registered destination."""

from __future__ import annotations

import dataclasses

import pytest
from mercator.activation.destination import CHANNELS, ConfigError, Destination, Member
from mercator.activation.runner import DESTINATION_CLASSES, destination_class

KINDS = sorted(DESTINATION_CLASSES)


@pytest.fixture(params=KINDS)
def cls(request) -> type[Destination]:
    return destination_class(request.param)


def test_registry_names_each_class_by_its_kind(cls):
    assert DESTINATION_CLASSES[cls.kind].endswith(f":{cls.__name__}")
    assert issubclass(cls, Destination)


def test_options_are_a_typed_dataclass_and_unknown_ones_are_refused(cls):
    assert dataclasses.is_dataclass(cls.config_class)
    with pytest.raises(ConfigError, match="unknown option"):
        cls.parse_options({"no_such_option": 1})
    with pytest.raises(TypeError):
        cls(object())


def test_capabilities_are_declared(cls):
    assert cls.channels and set(cls.channels) <= set(CHANNELS)
    assert isinstance(cls.delivers_messages, bool) and cls.max_batch >= 1
    assert cls.identifier


def test_unsupported_operations_raise_not_implemented():
    class Bare(Destination):
        kind = "bare"

    base = Bare.__new__(Bare)
    member = Member("k1", {}, "h")
    for operation in ("upsert", "remove"):
        with pytest.raises(NotImplementedError):
            getattr(base, operation)("audience", [member], "run")
    with pytest.raises(NotImplementedError):
        base.erase([member])

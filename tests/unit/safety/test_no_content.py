"""The engine never takes message content: no event or API parameter can carry it."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import fulcrum.safety as safety
from fulcrum.safety import EVENT_TYPES, SafetyEngine, SafetyStore

pytestmark = pytest.mark.unit

CONTENT_WORDS = ("body", "text", "content", "plaintext", "ciphertext", "caption", "payload",
                 "message_bytes", "media_bytes", "image", "attachment", "url")  # fmt: skip
CONTENT_TYPES = ("bytes", "bytearray", "memoryview")
ALLOWED_TYPES = {"str", "float", "int", "bool", "tuple[str, ...]", "BanReason", "LinkKind"}


def _bad(name: str) -> bool:
    return any(word in name.lower() for word in CONTENT_WORDS)


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_event_fields_carry_no_content(event_type: type) -> None:
    for f in dataclasses.fields(event_type):
        assert not _bad(f.name), f"{event_type.__name__}.{f.name}"
        assert not any(t in str(f.type) for t in CONTENT_TYPES), f"{event_type.__name__}.{f.name}"
        assert str(f.type).split(" |")[0] in ALLOWED_TYPES, f"{event_type.__name__}.{f.name}"


def test_all_events_are_covered() -> None:
    union = set(safety.SafetyEvent.__args__)  # type: ignore[attr-defined]
    assert union == set(EVENT_TYPES)


@pytest.mark.parametrize("api", [SafetyEngine, SafetyStore], ids=lambda t: t.__name__)
def test_api_parameters_carry_no_content(api: type) -> None:
    for name, member in inspect.getmembers(api, inspect.isfunction):
        for param in inspect.signature(member).parameters.values():
            assert not _bad(param.name), f"{api.__name__}.{name}({param.name})"
            assert not any(t in str(param.annotation) for t in CONTENT_TYPES), (
                f"{name}({param.name})"
            )


def test_events_are_frozen() -> None:
    ev = safety.MessageSent("a", ("b",), "c", 0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.sender = "x"  # type: ignore[misc]

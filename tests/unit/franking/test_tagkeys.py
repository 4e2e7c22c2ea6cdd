"""Monthly tag keys: kid, rotation, 13-month retention, destruction events, tag checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from fulcrum.franking import (
    KeyDestroyed,
    KeyRotated,
    TagCheck,
    TagKeyring,
    TagKeyUnavailable,
    check_tag,
    kid_expires_at,
    kid_for,
    next_rotation_at,
    tag,
)
from fulcrum.franking.errors import FrankingFormatError

from .world import World

pytestmark = pytest.mark.unit


def at(y: int, m: int, d: int = 1, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def test_kid_is_the_utc_month() -> None:
    assert kid_for(at(2026, 11, 30, 23)) == "2026-11"
    plus2 = datetime(2026, 12, 1, 1, tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    assert kid_for(plus2) == "2026-12"
    assert kid_expires_at("2026-11") == at(2027, 12)
    assert next_rotation_at(at(2026, 12, 15)) == at(2027, 1)
    with pytest.raises(FrankingFormatError):
        kid_for(datetime(2026, 1, 1))  # naive time refused


def test_advance_rotates_monthly_and_is_idempotent() -> None:
    ring, events = TagKeyring().advance(at(2026, 1, 5))
    assert [type(e) for e in events] == [KeyRotated]
    assert events[0].kid == "2026-01"
    assert events[0].expires_at == at(2027, 2)
    same, none = ring.advance(at(2026, 1, 20))
    assert none == ()
    assert same == ring
    ring2, ev2 = ring.advance(at(2026, 2, 1))
    assert [e.kid for e in ev2] == ["2026-02"]
    assert ring2.kids == ("2026-01", "2026-02")
    assert ev2[0].as_record()["event"] == "franking.key_rotated"


def test_keys_destroyed_after_13_months() -> None:
    ring, _ = TagKeyring().advance(at(2026, 1, 5))
    ring, _ = ring.advance(at(2026, 2, 5))
    ring, events = ring.advance(at(2027, 1, 31, 23))
    assert not any(isinstance(e, KeyDestroyed) for e in events)
    ring, events = ring.advance(at(2027, 2, 1))
    destroyed = [e for e in events if isinstance(e, KeyDestroyed)]
    assert [e.kid for e in destroyed] == ["2026-01"]
    assert destroyed[0].as_record() == {
        "event": "franking.key_destroyed",
        "kid": "2026-01",
        "at": int(at(2027, 2, 1).timestamp() * 1000),
    }
    assert "2026-01" not in ring.kids
    assert "2026-02" in ring.kids


def test_tag_needs_current_key() -> None:
    w = World(at(2026, 1, 5))
    b = w.send("alice", b"x")
    with pytest.raises(TagKeyUnavailable):
        tag(w.keyring, b.c, b.env, at(2026, 2, 1))


def test_expired_key_reported_as_expired_not_bad() -> None:
    w = World(at(2026, 1, 31, 23))
    b = w.send("alice", b"old")
    ring = w.keyring
    assert check_tag(ring, b.kid, b.tag, b.c, b.env, at(2027, 1, 31, 23)) is TagCheck.VALID
    assert check_tag(ring, b.kid, b.tag, b.c, b.env, at(2027, 2, 1)) is TagCheck.EXPIRED
    destroyed, _ = ring.advance(at(2027, 2, 1))
    assert check_tag(destroyed, b.kid, b.tag, b.c, b.env, at(2027, 2, 1)) is TagCheck.EXPIRED


def test_future_or_malformed_kid_is_bad() -> None:
    w = World()
    b = w.send("alice", b"x")
    assert check_tag(w.keyring, "2099-01", b.tag, b.c, b.env, w.now) is TagCheck.BAD
    assert check_tag(w.keyring, "26-11", b.tag, b.c, b.env, w.now) is TagCheck.BAD
    assert check_tag(w.keyring, b.kid, b.tag[:-1], b.c, b.env, w.now) is TagCheck.BAD


def test_state_export_roundtrip_keeps_tags_valid() -> None:
    w = World()
    b = w.send("alice", b"x")
    restored = TagKeyring.from_secret_state(w.keyring.export_secret_state())
    assert restored == w.keyring
    assert check_tag(restored, b.kid, b.tag, b.c, b.env, w.now) is TagCheck.VALID
    with pytest.raises(FrankingFormatError):
        TagKeyring.from_secret_state(b'{"v":1,"keys":[{"kid":"x"}]}')

"""The platform's tag keys: one per calendar month (UTC), kept 13 months, then destroyed.

    tag = HMAC-SHA256(K_tag[kid], "tag-v1" || LP(c) || LP(C(env)))

``kid`` is the month the key tags in, e.g. ``"2026-11"``. The key for month M is made when the
keyring is first advanced in M and destroyed once ``now`` reaches the start of month M+13; a tag
under a destroyed key can no longer be verified (``TagCheck.EXPIRED``). ``TagKeyring`` is an
immutable value: ``advance(now)`` returns the next keyring and the events the server must log.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from fulcrum.encoding import EncodingError, canonical_json, domain_message, parse_json_object
from fulcrum.franking._fields import (
    check_bytes,
    dec,
    enc,
    exact_keys,
    from_ms,
    require_aware,
    to_ms,
)
from fulcrum.franking.envelope import ServerEnvelope
from fulcrum.franking.errors import FrankingFormatError, TagKeyUnavailable
from fulcrum.hazmat.symmetric import constant_time_equal, hmac_sha256, random_bytes

TAG_LABEL = "tag-v1"
TAG_KEY_BYTES = 32
TAG_BYTES = 32
RETENTION_MONTHS = 13
_KID = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def kid_for(when: datetime) -> str:
    """The key id of the month ``when`` falls in (UTC)."""
    t = require_aware("now", when)
    return f"{t.year:04d}-{t.month:02d}"


def parse_kid(kid: str) -> tuple[int, int]:
    match = _KID.match(kid) if isinstance(kid, str) else None
    if match is None:
        raise FrankingFormatError("kid must look like YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def _month_start(year: int, month: int) -> datetime:
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def kid_starts_at(kid: str) -> datetime:
    year, month = parse_kid(kid)
    return _month_start(year, month)


def kid_expires_at(kid: str) -> datetime:
    """When the key is destroyed: the start of the 13th month after its own."""
    year, month = parse_kid(kid)
    return _month_start(year, month + RETENTION_MONTHS)


def next_rotation_at(now: datetime) -> datetime:
    """When ``advance`` must next be called to keep tagging: the start of the next month."""
    t = require_aware("now", now)
    return _month_start(t.year, t.month + 1)


@dataclass(frozen=True)
class TagKey:
    kid: str
    secret: bytes
    created_at: datetime

    def __post_init__(self) -> None:
        parse_kid(self.kid)
        check_bytes("tag key", self.secret, TAG_KEY_BYTES)
        require_aware("created_at", self.created_at)

    def __repr__(self) -> str:  # never print the key
        return f"TagKey(kid={self.kid!r})"

    @property
    def expires_at(self) -> datetime:
        return kid_expires_at(self.kid)


@dataclass(frozen=True)
class KeyRotated:
    """A new monthly tag key was generated (log entry)."""

    kid: str
    at: datetime
    expires_at: datetime

    def as_record(self) -> dict[str, Any]:
        return {
            "event": "franking.key_rotated",
            "kid": self.kid,
            "at": to_ms(self.at),
            "expires_at": to_ms(self.expires_at),
        }


@dataclass(frozen=True)
class KeyDestroyed:
    """A tag key reached the end of its retention and was destroyed (log entry)."""

    kid: str
    at: datetime

    def as_record(self) -> dict[str, Any]:
        return {"event": "franking.key_destroyed", "kid": self.kid, "at": to_ms(self.at)}


KeyEvent = KeyRotated | KeyDestroyed


class TagCheck(Enum):
    VALID = "valid"
    BAD = "bad"
    EXPIRED = "expired"


@dataclass(frozen=True)
class TagKeyring:
    """The live tag keys, sorted by kid. Immutable: ``advance`` returns a new keyring."""

    keys: tuple[TagKey, ...] = ()

    def __post_init__(self) -> None:
        kids = [k.kid for k in self.keys]
        if kids != sorted(set(kids)):
            raise FrankingFormatError("tag keys must be sorted by kid and unique")

    def __repr__(self) -> str:
        return f"TagKeyring(kids={[k.kid for k in self.keys]!r})"

    def key(self, kid: str) -> TagKey | None:
        for k in self.keys:
            if k.kid == kid:
                return k
        return None

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(k.kid for k in self.keys)

    def advance(
        self, now: datetime, *, secret_source: Callable[[int], bytes] = random_bytes
    ) -> tuple[TagKeyring, tuple[KeyEvent, ...]]:
        """Destroy keys past retention and make the current month's key if missing."""
        t = require_aware("now", now)
        events: list[KeyEvent] = []
        kept: list[TagKey] = []
        for k in self.keys:
            if t >= k.expires_at:
                events.append(KeyDestroyed(k.kid, t))
            else:
                kept.append(k)
        current = kid_for(t)
        if all(k.kid != current for k in kept):
            new = TagKey(current, secret_source(TAG_KEY_BYTES), t)
            kept.append(new)
            events.append(KeyRotated(current, t, new.expires_at))
        kept.sort(key=lambda k: k.kid)
        return TagKeyring(tuple(kept)), tuple(events)

    def export_secret_state(self) -> bytes:
        """Canonical JSON *with the secrets*: encrypt it before it touches storage."""
        return canonical_json(
            {
                "v": 1,
                "keys": [
                    {"kid": k.kid, "secret": enc(k.secret), "created_at": to_ms(k.created_at)}
                    for k in self.keys
                ],
            }
        )

    @classmethod
    def from_secret_state(cls, data: bytes) -> TagKeyring:
        try:
            obj = exact_keys(parse_json_object(data), "keyring", frozenset({"v", "keys"}))
        except EncodingError as exc:
            raise FrankingFormatError("keyring state is not a JSON object") from exc
        if obj["v"] != 1 or not isinstance(obj["keys"], list):
            raise FrankingFormatError("unsupported keyring state")
        keys = []
        for item in obj["keys"]:
            k = exact_keys(item, "tag key", frozenset({"kid", "secret", "created_at"}))
            created = k["created_at"]
            if not isinstance(created, int) or isinstance(created, bool):
                raise FrankingFormatError("created_at must be an integer")
            keys.append(
                TagKey(k["kid"], dec("secret", k["secret"], TAG_KEY_BYTES), from_ms(created))
            )
        return cls(tuple(keys))


def _mac(secret: bytes, commitment: bytes, env: ServerEnvelope) -> bytes:
    return hmac_sha256(secret, domain_message(TAG_LABEL, commitment, env.canonical()))


def tag(
    keyring: TagKeyring, commitment: bytes, env: ServerEnvelope, now: datetime
) -> tuple[str, bytes]:
    """Relay side: tag the sender's commitment and the envelope under the current month's key."""
    check_bytes("commitment", commitment, 32)
    kid = kid_for(now)
    key = keyring.key(kid)
    if key is None:
        raise TagKeyUnavailable(f"no tag key for {kid}; advance the keyring first")
    return kid, _mac(key.secret, commitment, env)


def check_tag(
    keyring: TagKeyring,
    kid: str,
    tag_value: bytes,
    commitment: bytes,
    env: ServerEnvelope,
    now: datetime,
) -> TagCheck:
    """Platform side: is ``tag_value`` a tag of (commitment, env) under a live key ``kid``?"""
    t = require_aware("now", now)
    try:
        starts = kid_starts_at(kid)
    except FrankingFormatError:
        return TagCheck.BAD
    if starts > t:
        return TagCheck.BAD  # a key from the future was never used
    if t >= kid_expires_at(kid):
        return TagCheck.EXPIRED
    key = keyring.key(kid)
    if key is None:
        return TagCheck.EXPIRED  # destroyed (or never made): nothing can be verified under it
    if len(tag_value) != TAG_BYTES or len(commitment) != 32:
        return TagCheck.BAD
    ok = constant_time_equal(_mac(key.secret, commitment, env), tag_value)
    return TagCheck.VALID if ok else TagCheck.BAD

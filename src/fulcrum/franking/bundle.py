"""The franking bundle a recipient keeps for the report window, and its canonical encoding.

    bundle = (body, meta, k_f, c, env, kid, tag)

Encoded as RFC 8785 canonical JSON; the parser accepts only the exact canonical bytes of a valid
bundle (unknown, missing or duplicated fields, wrong lengths, non-canonical base64 or key order are
all refused with ``FrankingFormatError``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from fulcrum.encoding import EncodingError, canonical_json, parse_json_object
from fulcrum.franking._fields import (
    DIGEST_BYTES,
    check_bytes,
    dec,
    enc,
    exact_keys,
    from_ms,
    require_aware,
)
from fulcrum.franking.commitment import FRANKING_KEY_BYTES
from fulcrum.franking.envelope import ServerEnvelope
from fulcrum.franking.errors import FrankingFormatError
from fulcrum.franking.meta import FrankingMeta
from fulcrum.franking.tagkeys import TAG_BYTES, parse_kid

BUNDLE_VERSION = 1
MAX_BODY_BYTES = 1 << 20
MAX_BUNDLE_BYTES = 2 * MAX_BODY_BYTES
DEFAULT_KEEP_WINDOW = timedelta(days=30)
_KEYS = frozenset({"v", "body", "meta", "k_f", "c", "env", "kid", "tag"})


@dataclass(frozen=True)
class FrankingBundle:
    body: bytes
    meta: FrankingMeta
    k_f: bytes
    c: bytes
    env: ServerEnvelope
    kid: str
    tag: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.body, bytes) or len(self.body) > MAX_BODY_BYTES:
            raise FrankingFormatError(f"body must be bytes of at most {MAX_BODY_BYTES}")
        if not isinstance(self.meta, FrankingMeta) or not isinstance(self.env, ServerEnvelope):
            raise FrankingFormatError("meta and env must be FrankingMeta and ServerEnvelope")
        check_bytes("k_f", self.k_f, FRANKING_KEY_BYTES)
        check_bytes("c", self.c, DIGEST_BYTES)
        parse_kid(self.kid)
        check_bytes("tag", self.tag, TAG_BYTES)

    def __repr__(self) -> str:  # never print body or k_f
        return f"FrankingBundle(msg_id={self.meta.msg_id.hex()}, kid={self.kid!r})"

    @property
    def msg_id(self) -> bytes:
        return self.env.msg_id

    def to_json(self) -> dict[str, Any]:
        return {
            "v": BUNDLE_VERSION,
            "body": enc(self.body),
            "meta": self.meta.to_json(),
            "k_f": enc(self.k_f),
            "c": enc(self.c),
            "env": self.env.to_json(),
            "kid": self.kid,
            "tag": enc(self.tag),
        }

    def encode(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, obj: object) -> FrankingBundle:
        data = exact_keys(obj, "bundle", _KEYS)
        if data["v"] != BUNDLE_VERSION or isinstance(data["v"], bool):
            raise FrankingFormatError("unsupported bundle version")
        kid = data["kid"]
        if not isinstance(kid, str):
            raise FrankingFormatError("kid must be a string")
        return cls(
            body=dec("body", data["body"]),
            meta=FrankingMeta.from_json(data["meta"]),
            k_f=dec("k_f", data["k_f"], FRANKING_KEY_BYTES),
            c=dec("c", data["c"], DIGEST_BYTES),
            env=ServerEnvelope.from_json(data["env"]),
            kid=kid,
            tag=dec("tag", data["tag"], TAG_BYTES),
        )

    @classmethod
    def parse(cls, data: bytes) -> FrankingBundle:
        """Strict parser: only the canonical encoding of a valid bundle is accepted."""
        return parse_canonical(data, cls.from_json, "bundle", MAX_BUNDLE_BYTES)


class _Encodable(Protocol):
    def encode(self) -> bytes: ...


_T = TypeVar("_T", bound=_Encodable)


def parse_canonical(
    data: bytes, build: Callable[[dict[str, Any]], _T], what: str, max_bytes: int
) -> _T:
    """Parse JSON bytes with ``build`` and insist they were the canonical encoding."""
    if not isinstance(data, bytes) or len(data) > max_bytes:
        raise FrankingFormatError(f"{what} must be bytes of at most {max_bytes}")
    try:
        value = build(parse_json_object(data))
        canonical = value.encode()
    except EncodingError as exc:
        raise FrankingFormatError(f"{what}: {exc}") from exc
    except RecursionError as exc:
        raise FrankingFormatError(f"{what} is nested too deeply") from exc
    if canonical != data:
        raise FrankingFormatError(f"{what} is not in canonical form")
    return value


def keep_until(bundle: FrankingBundle, window: timedelta = DEFAULT_KEEP_WINDOW) -> datetime:
    """When the recipient deletes the bundle: ``server_ts`` plus the report window."""
    return from_ms(bundle.env.server_ts) + window


def within_keep_window(
    bundle: FrankingBundle, now: datetime, window: timedelta = DEFAULT_KEEP_WINDOW
) -> bool:
    return require_aware("now", now) < keep_until(bundle, window)


def prune_bundles(
    bundles: Iterable[FrankingBundle], now: datetime, window: timedelta = DEFAULT_KEEP_WINDOW
) -> tuple[FrankingBundle, ...]:
    """The bundles still inside the report window (the rest must be deleted)."""
    return tuple(b for b in bundles if within_keep_window(b, now, window))

"""Field checks and JSON helpers shared by the franking encodings (strict, canonical-only)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fulcrum.encoding import EncodingError, b64d, b64e
from fulcrum.franking.errors import FrankingFormatError

MAX_ID_CHARS = 256
DIGEST_BYTES = 32
MSG_ID_BYTES = 16
MAX_SAFE_INT = 2**53 - 1  # RFC 8785 numbers are IEEE doubles: keep integers exact
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BAD_CHARS = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def check_id(name: str, value: object, *, max_chars: int = MAX_ID_CHARS) -> str:
    """A non-empty identifier without control characters or lone surrogates."""
    if type(value) is not str or not value or len(value) > max_chars:
        raise FrankingFormatError(f"{name} must be a non-empty string of at most {max_chars} chars")
    if _BAD_CHARS.search(value) is not None:
        raise FrankingFormatError(f"{name} must not contain control characters or surrogates")
    return value


def check_bytes(name: str, value: object, length: int) -> bytes:
    if not isinstance(value, bytes) or len(value) != length:
        raise FrankingFormatError(f"{name} must be exactly {length} bytes")
    return value


def check_int(name: str, value: object, *, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise FrankingFormatError(f"{name} must be an integer")
    if value < minimum or value > MAX_SAFE_INT:
        raise FrankingFormatError(f"{name} out of range")
    return value


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise FrankingFormatError(f"{name} must be a boolean")
    return value


def exact_keys(
    obj: object, name: str, required: frozenset[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise FrankingFormatError(f"{name} must be a JSON object")
    keys = set(obj)
    missing = required - keys
    extra = keys - required - optional
    if missing or extra:
        raise FrankingFormatError(
            f"{name}: missing {sorted(missing)}" if missing else f"{name}: unknown {sorted(extra)}"
        )
    return obj


def enc(data: bytes) -> str:
    return b64e(data)


def dec(name: str, value: object, length: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise FrankingFormatError(f"{name} must be a base64url string")
    try:
        return b64d(value, length=length)
    except EncodingError as exc:
        raise FrankingFormatError(f"{name}: {exc}") from exc


def require_aware(name: str, when: datetime) -> datetime:
    if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
        raise FrankingFormatError(f"{name} must be a timezone-aware datetime")
    return when.astimezone(UTC)


def to_ms(when: datetime) -> int:
    """Milliseconds since the Unix epoch (the wire's time unit)."""
    return (require_aware("time", when) - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)

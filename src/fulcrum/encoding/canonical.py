"""One canonical encoding for signed, committed and MACed data.

* ``canonical_json`` is RFC 8785 (JSON Canonicalization Scheme). Byte strings must be encoded with
  ``b64e`` (base64url, no padding) before they go into an object.
* ``lp`` is the 4-byte big-endian length prefix used to join fields unambiguously.
* ``domain_message`` joins a domain-separation label and length-prefixed fields.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import rfc8785


class EncodingError(ValueError):
    """Input is not in the canonical or expected encoding."""


_MAX_SAFE_INT = 2**53 - 1


def _plain(value: Any) -> bool:
    """True when ``json.dumps`` with sorted keys already gives the RFC 8785 bytes: no floats,
    integers within the IEEE-754 safe range, keys without astral characters (whose UTF-16 order
    could differ from code-point order). Lone surrogates fail later, at UTF-8 encoding."""
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is int:
        return bool(-_MAX_SAFE_INT <= value <= _MAX_SAFE_INT)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or _bmp(key)):
                return False
            if not _plain(item):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:  # noqa: SIM110 - an explicit loop is faster on this hot path
            if not _plain(item):
                return False
        return True
    return False


def _bmp(text: str) -> bool:
    return all(ord(c) < 0xD800 for c in text)


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 canonical JSON of a JSON-compatible value.

    Values made only of strings, safe integers, booleans, null, lists and objects take a fast
    path through the standard library (property-tested against the ``rfc8785`` package); anything
    else (floats, astral keys) goes through ``rfc8785`` itself.
    """
    if _plain(obj):
        try:
            return json.dumps(
                obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            ).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise EncodingError("string holds a lone surrogate") from exc
    try:
        return bytes(rfc8785.dumps(obj))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EncodingError(f"value cannot be canonicalised: {exc}") from exc


def canonical_json_flat(obj: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of an object the caller has already shaped: ASCII keys; values only
    strings, booleans, null, integers within +-(2^53 - 1), and lists/objects of those. It skips the
    shape walk of ``canonical_json`` on hot paths (message headers); a lone surrogate still fails.
    Property-tested against ``rfc8785`` for that shape."""
    try:
        return json.dumps(
            obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodingError("string holds a lone surrogate") from exc


def lp(data: bytes) -> bytes:
    """4-byte big-endian length prefix followed by the data."""
    if len(data) >= 1 << 32:
        raise EncodingError("field too long for a 4-byte length prefix")
    return len(data).to_bytes(4, "big") + data


def domain_message(label: str, *fields: bytes) -> bytes:
    """``label || LP(f1) || LP(f2) ...`` — the input to every MAC, hash and signature."""
    return label.encode("ascii") + b"".join(lp(f) for f in fields)


def b64e(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str, *, length: int | None = None) -> bytes:
    """Strict base64url decoding (padding optional); optional exact length check."""
    if not isinstance(text, str):
        raise EncodingError("expected a base64url string")
    padded = text + "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise EncodingError("invalid base64url") from exc
    if b64e(data) != text.rstrip("="):
        raise EncodingError("non-canonical base64url")
    if length is not None and len(data) != length:
        raise EncodingError(f"expected {length} bytes, got {len(data)}")
    return data


def parse_json_object(data: bytes) -> dict[str, Any]:
    """Parse bytes that must hold one JSON object."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EncodingError("not valid JSON") from exc
    if not isinstance(value, dict):
        raise EncodingError("expected a JSON object")
    return value

"""Canonical encodings: everything that is committed to, signed or MACed goes through here."""

from fulcrum.encoding.canonical import (
    EncodingError,
    b64d,
    b64e,
    canonical_json,
    canonical_json_flat,
    domain_message,
    lp,
    parse_json_object,
)

__all__ = [
    "EncodingError",
    "b64d",
    "b64e",
    "canonical_json",
    "canonical_json_flat",
    "domain_message",
    "lp",
    "parse_json_object",
]

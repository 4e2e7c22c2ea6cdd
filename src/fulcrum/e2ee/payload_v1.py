"""The version-1 ratchet payload (compact JSON with base64url fields): decoded, never produced.

Version 2 (``fulcrum.e2ee.payload``) replaced it; messages that older clients queued on the relay
before an upgrade still open.
"""

from __future__ import annotations

from typing import Any

from fulcrum.e2ee.content import AttachmentKey
from fulcrum.e2ee.errors import DecryptionFailed, MalformedPayload
from fulcrum.e2ee.header import MessageHeader
from fulcrum.encoding import EncodingError, b64d, parse_json_object

V1 = 1

PayloadParts = tuple[MessageHeader, bytes, tuple[AttachmentKey, ...], dict[str, Any]]


def decode_v1(data: bytes) -> PayloadParts:
    """``{"v":1, "header", "k_m", "attachments", "layers"}`` -> header, K_m, attachments, layers."""
    try:
        obj = parse_json_object(data)
        if obj.get("v") != V1:
            raise MalformedPayload("unsupported payload version")
        layers = obj.get("layers", {})
        if not isinstance(layers, dict):
            raise MalformedPayload("malformed layers")
        k_m = obj["k_m"]
        if not isinstance(k_m, str):
            raise MalformedPayload("malformed content key")
        attachments = obj.get("attachments", [])
        if not isinstance(attachments, list):
            raise MalformedPayload("malformed attachment keys")
        return (
            MessageHeader.from_json(obj["header"]),
            b64d(k_m, length=32),
            tuple(AttachmentKey.from_json(a) for a in attachments),
            layers,
        )
    except MalformedPayload:
        raise
    except (
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,
        EncodingError,
        DecryptionFailed,
    ) as exc:
        raise MalformedPayload("malformed ratchet payload") from exc

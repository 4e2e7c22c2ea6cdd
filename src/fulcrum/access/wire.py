"""JSON forms of the decryption-request types, for a trustee run as its own process.

Bytes are base64url (no padding); every ``*_from_json`` raises ``AccessError`` on malformed input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fulcrum.access.commitment import WarrantOpening
from fulcrum.access.errors import AccessError
from fulcrum.access.request import DecryptionRequest, LoggedRequest, RequestItem
from fulcrum.encoding import EncodingError, b64d, b64e
from fulcrum.escrow import EscrowContext, EscrowError, TrusteePartial


def item_to_json(item: RequestItem) -> dict[str, Any]:
    return {
        "field": b64e(item.field.to_bytes()),
        "ctx": b64e(item.ctx.to_bytes()),
        "recipient_devices": [list(p) for p in item.recipient_devices],
    }


def item_from_json(obj: Mapping[str, Any]) -> RequestItem:
    try:
        devices = [(str(a), str(d)) for a, d in obj["recipient_devices"]]
        ctx = EscrowContext.from_bytes(b64d(obj["ctx"]))
        return RequestItem.create(b64d(obj["field"]), ctx, devices)
    except (KeyError, TypeError, ValueError, EncodingError, EscrowError) as exc:
        raise AccessError(f"malformed request item: {exc}") from exc


def request_to_json(request: DecryptionRequest) -> dict[str, Any]:
    return {
        "warrant_id": request.warrant_id,
        "request_id": request.request_id,
        "epoch": request.epoch,
        "items": [item_to_json(i) for i in request.items],
    }


def request_from_json(obj: Mapping[str, Any]) -> DecryptionRequest:
    try:
        items = tuple(item_from_json(i) for i in obj["items"])
        return DecryptionRequest(
            str(obj["warrant_id"]), str(obj["request_id"]), int(obj["epoch"]), items
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, AccessError):
            raise
        raise AccessError(f"malformed decryption request: {exc}") from exc


def opening_to_json(opening: WarrantOpening) -> str:
    return b64e(opening.to_bytes())


def opening_from_json(value: Any) -> WarrantOpening:
    try:
        return WarrantOpening.from_bytes(b64d(str(value)))
    except (TypeError, ValueError, EncodingError) as exc:
        if isinstance(exc, AccessError):
            raise
        raise AccessError(f"malformed warrant opening: {exc}") from exc


def logged_to_json(logged: LoggedRequest) -> dict[str, Any]:
    return {
        "entry": b64e(logged.entry_bytes),
        "leaf_index": logged.leaf_index,
        "inclusion_proof": [b64e(p) for p in logged.inclusion_proof],
        "checkpoint_note": logged.checkpoint_note.decode("utf-8"),
    }


def logged_from_json(obj: Mapping[str, Any]) -> LoggedRequest:
    try:
        return LoggedRequest(
            b64d(obj["entry"]),
            int(obj["leaf_index"]),
            tuple(b64d(p) for p in obj["inclusion_proof"]),
            str(obj["checkpoint_note"]).encode("utf-8"),
        )
    except (KeyError, TypeError, ValueError, EncodingError) as exc:
        raise AccessError(f"malformed logged request: {exc}") from exc


def partial_to_json(partial: TrusteePartial) -> str:
    return b64e(partial.to_bytes())


def partial_from_json(value: Any) -> TrusteePartial:
    try:
        return TrusteePartial.from_bytes(b64d(str(value)))
    except (TypeError, ValueError, EncodingError, EscrowError) as exc:
        raise AccessError(f"malformed trustee partial: {exc}") from exc

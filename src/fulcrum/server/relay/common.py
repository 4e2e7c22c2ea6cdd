"""Small pieces shared by the relay endpoints."""

from __future__ import annotations

import base64
import binascii
import time

from fastapi import Request

from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.signing import VerifyKey
from fulcrum.server.errors import invalid
from fulcrum.server.state import RelayState, relay_state
from fulcrum.wire.api import DeviceKeys
from fulcrum.wire.statements import device_key_statement


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def state_of(request: Request) -> RelayState:
    return relay_state(request.app)


def vodozemac_b64(text: str, *, length: int, field: str) -> bytes:
    """Decode vodozemac's unpadded standard base64 (strictly, with an exact length)."""
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid(f"{field}: not base64") from exc
    if len(raw) != length or base64.b64encode(raw).decode().rstrip("=") != text:
        raise invalid(f"{field}: expected {length} bytes in unpadded base64")
    return raw


def verify_device_keys(account: str, keys: DeviceKeys) -> None:
    """Check that the uploader holds the Ed25519 key it registers (422 if not)."""
    vodozemac_b64(keys.identity_key, length=32, field="device.identity_key")
    signing = vodozemac_b64(keys.signing_key, length=32, field="device.signing_key")
    signature = vodozemac_b64(keys.signature, length=64, field="device.signature")
    statement = device_key_statement(account, keys.identity_key, keys.signing_key)
    try:
        VerifyKey(signing).verify(signature, statement)
    except CryptoError as exc:
        raise invalid("device.signature does not verify", "invalid_signature") from exc
    if keys.fallback_key is not None and len(keys.fallback_key) > 1:
        raise invalid("device.fallback_key holds at most one key")

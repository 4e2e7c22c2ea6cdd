"""Byte strings that devices sign. Both the client and the server build them from here."""

from __future__ import annotations

from fulcrum.encoding import canonical_json

DEVICE_KEYS_STATEMENT_TYPE = "fulcrum-device-keys-v1"


def device_key_statement(account: str, identity_key: str, signing_key: str) -> bytes:
    """The bytes a new device signs with its Ed25519 key to prove it holds that key.

    RFC 8785 canonical JSON of ``{"type": "fulcrum-device-keys-v1", "account", "identity_key",
    "signing_key"}``; keys are vodozemac's unpadded standard base64 text, exactly as uploaded.
    """
    return canonical_json(
        {
            "type": DEVICE_KEYS_STATEMENT_TYPE,
            "account": account,
            "identity_key": identity_key,
            "signing_key": signing_key,
        }
    )

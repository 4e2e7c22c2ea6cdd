"""The escrow context ``ctx``: what one escrow field is bound to.

``ctx`` is the RFC 8785 canonical JSON of exactly this object (all keys required, no others)::

    {"domain": "escrow-v1",
     "epoch": <int, escrow epoch e>,
     "conv": <str, conversation id>,
     "msg_id": <str, message id>,
     "sender": <str, sender account>,
     "sender_device": <str, sender device id>,
     "recipients": <base64url (no padding) of SHA-256 over the sorted recipient devices>,
     "client_ts": <int, client time in milliseconds since the Unix epoch>}

``recipients`` = SHA-256(canonical_json([[account, device_id], ...])) with the pairs of every
recipient device the envelope is addressed to, sorted by (account, device_id) in code-point order
and with no duplicates. Trustees see the hash only; a recipient recomputes it from the devices it
knows the message was sent to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json, parse_json_object
from fulcrum.escrow.errors import EscrowFieldError
from fulcrum.hazmat.symmetric import sha256

CONTEXT_DOMAIN = "escrow-v1"
MAX_ID_CHARS = 256
MAX_JSON_INT = 2**53 - 1
_KEYS = frozenset(
    {"domain", "epoch", "conv", "msg_id", "sender", "sender_device", "recipients", "client_ts"}
)


def recipient_devices_hash(devices: Iterable[tuple[str, str]]) -> bytes:
    """SHA-256 of the canonical JSON list of sorted, distinct (account, device_id) pairs."""
    pairs = [(str(account), str(device)) for account, device in devices]
    if not pairs:
        raise EscrowFieldError("a message needs at least one recipient device")
    ordered = sorted(pairs)
    if len(set(ordered)) != len(ordered):
        raise EscrowFieldError("duplicate recipient device")
    for account, device in ordered:
        _check_id("recipient account", account)
        _check_id("recipient device", device)
    return sha256(canonical_json([[account, device] for account, device in ordered]))


def _check_id(name: str, value: object) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_CHARS:
        raise EscrowFieldError(f"{name} must be a string of 1 to {MAX_ID_CHARS} characters")


def _check_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_JSON_INT:
        raise EscrowFieldError(f"{name} must be an integer in [0, 2^53)")


@dataclass(frozen=True)
class EscrowContext:
    """The public context one escrow field is bound to (see the module docstring)."""

    epoch: int
    conv: str
    msg_id: str
    sender: str
    sender_device: str
    recipients_hash: bytes
    client_ts: int
    _encoded: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_int("epoch", self.epoch)
        _check_int("client_ts", self.client_ts)
        for name in ("conv", "msg_id", "sender", "sender_device"):
            _check_id(name, getattr(self, name))
        if not isinstance(self.recipients_hash, bytes) or len(self.recipients_hash) != 32:
            raise EscrowFieldError("recipients_hash must be 32 bytes")
        object.__setattr__(self, "_encoded", canonical_json(self.to_json()))

    @classmethod
    def for_message(
        cls,
        *,
        epoch: int,
        conv: str,
        msg_id: str,
        sender: str,
        sender_device: str,
        recipient_devices: Iterable[tuple[str, str]],
        client_ts: int,
    ) -> EscrowContext:
        """Build the context from the envelope's fields and its recipient devices."""
        return cls(
            epoch=epoch,
            conv=conv,
            msg_id=msg_id,
            sender=sender,
            sender_device=sender_device,
            recipients_hash=recipient_devices_hash(recipient_devices),
            client_ts=client_ts,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": CONTEXT_DOMAIN,
            "epoch": self.epoch,
            "conv": self.conv,
            "msg_id": self.msg_id,
            "sender": self.sender,
            "sender_device": self.sender_device,
            "recipients": b64e(self.recipients_hash),
            "client_ts": self.client_ts,
        }

    def to_bytes(self) -> bytes:
        """The canonical ``ctx`` bytes that the field's hashes, KDF and AEAD bind."""
        return self._encoded

    @classmethod
    def from_bytes(cls, data: bytes) -> EscrowContext:
        """Strict parse: one JSON object with exactly the expected keys, in canonical form."""
        try:
            obj = parse_json_object(data)
        except EncodingError as exc:
            raise EscrowFieldError(f"escrow context: {exc}") from exc
        if set(obj) != _KEYS or obj["domain"] != CONTEXT_DOMAIN:
            raise EscrowFieldError("escrow context has the wrong keys or domain")
        try:
            recipients = b64d(obj["recipients"], length=32)
        except EncodingError as exc:
            raise EscrowFieldError(f"escrow context recipients: {exc}") from exc
        ctx = cls(
            epoch=obj["epoch"],
            conv=obj["conv"],
            msg_id=obj["msg_id"],
            sender=obj["sender"],
            sender_device=obj["sender_device"],
            recipients_hash=recipients,
            client_ts=obj["client_ts"],
        )
        if ctx.to_bytes() != bytes(data):
            raise EscrowFieldError("escrow context is not in canonical form")
        return ctx

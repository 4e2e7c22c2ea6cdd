"""Shared test helpers for the escrow tests: deterministic randomness and sample values."""

from __future__ import annotations

import hashlib

from fulcrum.escrow import EscrowContext
from fulcrum.hazmat.ristretto import RandomSource


def seeded_rng(seed: bytes) -> RandomSource:
    """A deterministic byte source (SHAKE-256 over seed || counter) for reproducible tests."""
    counter = 0

    def draw(n: int) -> bytes:
        nonlocal counter
        counter += 1
        return hashlib.shake_256(seed + counter.to_bytes(8, "big")).digest(n)

    return draw


def sample_context(**changes: object) -> EscrowContext:
    fields: dict[str, object] = {
        "epoch": 7,
        "conv": "dm:alice:bob",
        "msg_id": "AAECAwQFBgcICQoLDA0ODw",
        "sender": "alice",
        "sender_device": "alice-phone",
        "recipient_devices": [
            ("bob", "bob-laptop"),
            ("alice", "alice-tablet"),
            ("bob", "bob-phone"),
        ],
        "client_ts": 1_767_225_600_000,
    }
    fields.update(changes)
    return EscrowContext.for_message(**fields)  # type: ignore[arg-type]

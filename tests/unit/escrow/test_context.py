"""The escrow context ctx: exact canonical form, strict parsing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.encoding import b64e, canonical_json
from fulcrum.escrow import EscrowContext, EscrowFieldError, recipient_devices_hash
from fulcrum.hazmat.symmetric import sha256

from .support import sample_context

pytestmark = pytest.mark.unit


def test_exact_canonical_form() -> None:
    ctx = sample_context()
    devices = [["alice", "alice-tablet"], ["bob", "bob-laptop"], ["bob", "bob-phone"]]
    expected = {
        "client_ts": 1_767_225_600_000,
        "conv": "dm:alice:bob",
        "domain": "escrow-v1",
        "epoch": 7,
        "msg_id": "AAECAwQFBgcICQoLDA0ODw",
        "recipients": b64e(sha256(canonical_json(devices))),
        "sender": "alice",
        "sender_device": "alice-phone",
    }
    assert ctx.to_bytes() == json.dumps(expected, separators=(",", ":"), sort_keys=True).encode()
    assert EscrowContext.from_bytes(ctx.to_bytes()) == ctx


def test_recipient_hash_rejects_duplicates_and_empty() -> None:
    with pytest.raises(EscrowFieldError):
        recipient_devices_hash([("bob", "d1"), ("bob", "d1")])
    with pytest.raises(EscrowFieldError):
        recipient_devices_hash([])
    assert recipient_devices_hash([("a", "1"), ("b", "2")]) == recipient_devices_hash(
        [("b", "2"), ("a", "1")]
    )


@pytest.mark.parametrize(
    "change",
    [{"epoch": -1}, {"epoch": True}, {"client_ts": 2**53}, {"conv": ""}, {"sender": "x" * 257}],
)
def test_invalid_fields_rejected(change: dict[str, object]) -> None:
    with pytest.raises(EscrowFieldError):
        sample_context(**change)


def test_non_canonical_or_extra_keys_rejected() -> None:
    ctx = sample_context()
    obj = json.loads(ctx.to_bytes())
    pretty = json.dumps(obj, indent=1).encode()
    with pytest.raises(EscrowFieldError):
        EscrowContext.from_bytes(pretty)
    variants: list[dict[str, object]] = [
        {**obj, "extra": 1},
        {k: v for k, v in obj.items() if k != "client_ts"},
        {**obj, "domain": "escrow-v2"},
        {**obj, "recipients": "AAAA"},
        {**obj, "epoch": "7"},
    ]
    for bad in variants:
        with pytest.raises(EscrowFieldError):
            EscrowContext.from_bytes(canonical_json(bad))


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_fuzz_context_parser(data: bytes) -> None:
    try:
        ctx = EscrowContext.from_bytes(data)
    except EscrowFieldError:
        return
    assert ctx.to_bytes() == data

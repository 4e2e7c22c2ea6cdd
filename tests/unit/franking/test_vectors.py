"""Franking vectors: recompute from fixed inputs and compare with the committed file."""

from __future__ import annotations

import hashlib
import hmac
import json
import struct

import pytest

from fulcrum.franking import (
    FrankingBundle,
    ReportAttestation,
    attestation_key_id,
    verify_attestation,
)
from fulcrum.hazmat.signing import SigningKey

from .make_vectors import PATH, compute

pytestmark = pytest.mark.unit


def test_no_drift() -> None:
    stored = json.loads(PATH.read_text(encoding="utf-8"))
    assert compute() == stored


def test_stored_objects_parse_and_verify() -> None:
    stored = json.loads(PATH.read_text(encoding="utf-8"))
    bundle = FrankingBundle.parse(stored["bundle"].encode())
    assert bundle.c.hex() == stored["commitment"]
    att = ReportAttestation.parse(stored["attestation"].encode())
    key = SigningKey(bytes(32)).public_key()
    verify_attestation(att, {attestation_key_id(key): key})


def _lp(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def test_commitment_and_tag_match_an_independent_hmac() -> None:
    """Recompute with the standard library only, straight from design note 03."""
    v = json.loads(PATH.read_text(encoding="utf-8"))
    k_f, tag_key = bytes.fromhex(v["inputs"]["k_f"]), bytes.fromhex(v["inputs"]["tag_key"])
    meta, env = v["meta_canonical"].encode(), v["env_canonical"].encode()
    body = bytes.fromhex(v["inputs"]["body"])
    c = hmac.new(k_f, b"frank-v1" + _lp(meta) + _lp(body), hashlib.sha256).digest()
    assert c.hex() == v["commitment"]
    t = hmac.new(tag_key, b"tag-v1" + _lp(c) + _lp(env), hashlib.sha256).digest()
    assert t.hex() == v["tag"]

"""Ed25519 attestation of verified reports."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from fulcrum.franking import (
    AttestationError,
    ReportAttestation,
    ReportError,
    attest_report,
    attestation_key_id,
    verify_attestation,
    verify_report,
)
from fulcrum.hazmat.signing import SigningKey
from fulcrum.hazmat.symmetric import sha256

from .world import World, conversation, report

pytestmark = pytest.mark.unit


def _attested():  # type: ignore[no-untyped-def]
    w = World()
    msgs = conversation(w, 4)
    r = report("bob", msgs, [msgs[2]])
    verdict = verify_report(r, w.keyring, w.now)
    key = SigningKey.generate()
    att = attest_report(r, verdict, key, w.now + timedelta(seconds=5))
    return w, msgs, r, verdict, key, att


def test_attestation_covers_the_specified_fields_and_verifies() -> None:
    _w, msgs, r, _, key, att = _attested()
    keys = {attestation_key_id(key.public_key()): key.public_key()}
    verify_attestation(att, keys)
    assert att.report_id == r.report_id
    assert att.key_id in keys
    assert [i.msg_id for i in att.items] == [m.msg_id for m in msgs]
    assert att.items[2].body_sha256 == sha256(msgs[2].body)
    assert att.items[2].sender == "alice"
    assert att.items[2].server_ts == msgs[2].env.server_ts
    assert set(att.statement_json()) == {"report_id", "items", "verified_at", "key_id"}
    assert ReportAttestation.parse(att.encode()) == att


def test_tampered_or_foreign_attestations_fail() -> None:
    _, _, _, _, key, att = _attested()
    keys = {att.key_id: key.public_key()}
    item = dataclasses.replace(att.items[0], sender="carol")
    with pytest.raises(AttestationError):
        verify_attestation(dataclasses.replace(att, items=(item, *att.items[1:])), keys)
    with pytest.raises(AttestationError):
        verify_attestation(dataclasses.replace(att, verified_at=att.verified_at + 1), keys)
    other = SigningKey.generate().public_key()
    with pytest.raises(AttestationError):
        verify_attestation(att, {att.key_id: other})
    with pytest.raises(AttestationError):
        verify_attestation(att, {})
    with pytest.raises(AttestationError):
        ReportAttestation.parse(att.encode().replace(b'"items"', b'"itemz"'))


def test_unverified_report_is_not_attested() -> None:
    w = World()
    msgs = conversation(w, 2)
    forged = dataclasses.replace(msgs[0], body=b"edited")
    r = report("bob", [forged, msgs[1]], [forged])
    verdict = verify_report(r, w.keyring, w.now)
    with pytest.raises(ReportError):
        attest_report(r, verdict, SigningKey.generate(), w.now)
    good = report("bob", msgs, [msgs[0]], report_id="other")
    with pytest.raises(ReportError):
        attest_report(good, verdict, SigningKey.generate(), w.now)

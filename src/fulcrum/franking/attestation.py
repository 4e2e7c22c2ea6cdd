"""The platform's Ed25519 attestation of a verified report.

Signed statement (RFC 8785 canonical JSON, signed as ``"report-attest-v1" || LP(statement)``):

    {report_id, items: [{msg_id, sender, server_ts, body_sha256}], verified_at, key_id}

Review, evidence and clearinghouse workflows consume the attestation instead of re-verifying
franking. It reveals message hashes, not bodies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fulcrum.encoding import canonical_json, domain_message
from fulcrum.franking._fields import (
    DIGEST_BYTES,
    MSG_ID_BYTES,
    check_bytes,
    check_id,
    check_int,
    dec,
    enc,
    exact_keys,
    to_ms,
)
from fulcrum.franking.bundle import parse_canonical
from fulcrum.franking.errors import AttestationError, FrankingFormatError, ReportError
from fulcrum.franking.report import AbuseReport, ReportVerdict
from fulcrum.hazmat import CryptoError
from fulcrum.hazmat.signing import SigningKey, VerifyKey
from fulcrum.hazmat.symmetric import sha256

ATTEST_LABEL = "report-attest-v1"
KEY_ID_LABEL = "attest-key-v1"
SIGNATURE_BYTES = 64
MAX_ATTESTATION_BYTES = 1 << 20
_ITEM_KEYS = frozenset({"msg_id", "sender", "server_ts", "body_sha256"})
_STATEMENT_KEYS = frozenset({"report_id", "items", "verified_at", "key_id"})


def attestation_key_id(key: VerifyKey) -> str:
    """A short stable id for an attestation public key (16 hex chars)."""
    return sha256(domain_message(KEY_ID_LABEL, key.raw))[:8].hex()


@dataclass(frozen=True)
class AttestedItem:
    msg_id: bytes
    sender: str
    server_ts: int
    body_sha256: bytes

    def __post_init__(self) -> None:
        check_bytes("msg_id", self.msg_id, MSG_ID_BYTES)
        check_id("sender", self.sender)
        check_int("server_ts", self.server_ts)
        check_bytes("body_sha256", self.body_sha256, DIGEST_BYTES)

    def to_json(self) -> dict[str, Any]:
        return {
            "msg_id": enc(self.msg_id),
            "sender": self.sender,
            "server_ts": self.server_ts,
            "body_sha256": enc(self.body_sha256),
        }

    @classmethod
    def from_json(cls, obj: object) -> AttestedItem:
        data = exact_keys(obj, "item", _ITEM_KEYS)
        return cls(
            msg_id=dec("msg_id", data["msg_id"], MSG_ID_BYTES),
            sender=check_id("sender", data["sender"]),
            server_ts=check_int("server_ts", data["server_ts"]),
            body_sha256=dec("body_sha256", data["body_sha256"], DIGEST_BYTES),
        )


@dataclass(frozen=True)
class ReportAttestation:
    report_id: str
    items: tuple[AttestedItem, ...]
    verified_at: int  # ms since the epoch
    key_id: str
    signature: bytes

    def __post_init__(self) -> None:
        check_id("report_id", self.report_id, max_chars=64)
        if not self.items:
            raise FrankingFormatError("an attestation names at least one message")
        check_int("verified_at", self.verified_at)
        check_id("key_id", self.key_id, max_chars=64)
        check_bytes("signature", self.signature, SIGNATURE_BYTES)

    def statement_json(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "items": [i.to_json() for i in self.items],
            "verified_at": self.verified_at,
            "key_id": self.key_id,
        }

    def signed_message(self) -> bytes:
        return domain_message(ATTEST_LABEL, canonical_json(self.statement_json()))

    def encode(self) -> bytes:
        return canonical_json({**self.statement_json(), "signature": enc(self.signature)})

    @classmethod
    def from_json(cls, obj: object) -> ReportAttestation:
        data = exact_keys(obj, "attestation", _STATEMENT_KEYS | {"signature"})
        items = data["items"]
        if not isinstance(items, list):
            raise FrankingFormatError("items must be a list")
        return cls(
            report_id=check_id("report_id", data["report_id"], max_chars=64),
            items=tuple(AttestedItem.from_json(i) for i in items),
            verified_at=check_int("verified_at", data["verified_at"]),
            key_id=check_id("key_id", data["key_id"], max_chars=64),
            signature=dec("signature", data["signature"], SIGNATURE_BYTES),
        )

    @classmethod
    def parse(cls, data: bytes) -> ReportAttestation:
        try:
            return parse_canonical(data, cls.from_json, "attestation", MAX_ATTESTATION_BYTES)
        except FrankingFormatError as exc:
            raise AttestationError(str(exc)) from exc


def attest_report(
    report: AbuseReport, verdict: ReportVerdict, key: SigningKey, now: datetime
) -> ReportAttestation:
    """Sign a verified report. Refuses unverified reports and verdicts of another report."""
    if verdict.report_id != report.report_id or [i.msg_id for i in verdict.items] != [
        m.bundle.msg_id for m in report.messages
    ]:
        raise ReportError("the verdict is not for this report")
    if not verdict.verified:
        raise ReportError("only a verified report can be attested")
    items = tuple(
        AttestedItem(
            msg_id=m.bundle.msg_id,
            sender=m.bundle.env.sender,
            server_ts=m.bundle.env.server_ts,
            body_sha256=sha256(m.bundle.body),
        )
        for m in report.messages
    )
    unsigned = ReportAttestation(
        report_id=report.report_id,
        items=items,
        verified_at=to_ms(now),
        key_id=attestation_key_id(key.public_key()),
        signature=bytes(SIGNATURE_BYTES),
    )
    return ReportAttestation(
        report_id=unsigned.report_id,
        items=unsigned.items,
        verified_at=unsigned.verified_at,
        key_id=unsigned.key_id,
        signature=key.sign(unsigned.signed_message()),
    )


def verify_attestation(attestation: ReportAttestation, keys: Mapping[str, VerifyKey]) -> None:
    """Raise ``AttestationError`` unless a known key with that id signed this statement."""
    key = keys.get(attestation.key_id)
    if key is None or attestation_key_id(key) != attestation.key_id:
        raise AttestationError(f"unknown attestation key {attestation.key_id!r}")
    try:
        key.verify(attestation.signature, attestation.signed_message())
    except CryptoError as exc:
        raise AttestationError("attestation signature does not verify") from exc

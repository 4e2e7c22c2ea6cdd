"""A trustee's independent decision on a warrant: judge signature, scope, quotas, categories.

Every input comes from the log or from the warrant itself: judge keys from ``JudgeKeyRegistered``
entries, usage from ``AccessUsage.from_entries``, and the registration the warrant must match. The
decision document is canonical JSON; its SHA-256 is the ``approval_digest`` of the trustee's
``TrusteeApproval`` entry, which carries ``approved`` and the refusal codes: a denial is public
too, and only approvals count towards the quorum (see docs/warrants.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fulcrum.access.commitment import WarrantOpening, access_expires_at, warrant_digest
from fulcrum.access.errors import AccessError, JudgeSignatureError
from fulcrum.access.policy import Refusal, ScopePolicy
from fulcrum.access.quota import AccessUsage
from fulcrum.access.warrant import judge_keys_from_log, verify_warrant
from fulcrum.encoding import (
    EncodingError,
    b64d,
    b64e,
    canonical_json,
    domain_message,
    parse_json_object,
)
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.signing import SigningKey, VerifyKey
from fulcrum.hazmat.symmetric import constant_time_equal, sha256
from fulcrum.translog import LogEntry, TrusteeApproval, WarrantRegistered

DECISION_DOMAIN = "fulcrum/access/trustee-decision/v1"
DECISION_SIGNATURE_LABEL = "fulcrum/access/trustee-decision-signature/v1"


@dataclass(frozen=True)
class TrusteeDecision:
    warrant_id: str
    trustee_id: str
    warrant_digest: bytes
    approved: bool
    reasons: tuple[Refusal, ...]
    decided_at: int

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "domain": DECISION_DOMAIN,
                "warrant_id": self.warrant_id,
                "trustee_id": self.trustee_id,
                "warrant_digest": b64e(self.warrant_digest),
                "approved": self.approved,
                "reasons": [[r.code, r.detail] for r in self.reasons],
                "decided_at": self.decided_at,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> TrusteeDecision:
        """Strict parse of ``to_bytes`` output (a remote trustee's signed decision)."""
        try:
            obj = parse_json_object(data)
            if obj.get("domain") != DECISION_DOMAIN or not isinstance(obj["approved"], bool):
                raise AccessError("not a trustee decision")
            decision = cls(
                warrant_id=str(obj["warrant_id"]),
                trustee_id=str(obj["trustee_id"]),
                warrant_digest=b64d(obj["warrant_digest"], length=32),
                approved=obj["approved"],
                reasons=tuple(Refusal(str(c), str(d)) for c, d in obj["reasons"]),
                decided_at=int(obj["decided_at"]),
            )
        except (KeyError, TypeError, ValueError, EncodingError) as exc:
            raise AccessError(f"malformed trustee decision: {exc}") from exc
        if decision.to_bytes() != bytes(data):
            raise AccessError("trustee decision is not in canonical form")
        return decision

    @property
    def digest(self) -> bytes:
        return sha256(self.to_bytes())

    def to_log_entry(self, time: int) -> TrusteeApproval:
        """The ``TrusteeApproval`` entry: the decision, its refusal codes and its digest."""
        return TrusteeApproval(
            time=time,
            warrant_id=self.warrant_id,
            trustee_id=self.trustee_id,
            approved=self.approved,
            reasons=tuple(sorted({r.code for r in self.reasons})),
            approval_digest=self.digest,
        )


def sign_decision(decision: TrusteeDecision, key: SigningKey) -> bytes:
    """A separate trustee's signature on its decision (checked before the platform logs it)."""
    return key.sign(domain_message(DECISION_SIGNATURE_LABEL, decision.to_bytes()))


def verify_decision(decision_bytes: bytes, signature: bytes, key: VerifyKey) -> TrusteeDecision:
    """The decision if ``key`` signed it; ``AccessError`` otherwise."""
    try:
        key.verify(signature, domain_message(DECISION_SIGNATURE_LABEL, decision_bytes))
    except CryptoError as exc:
        raise AccessError("the trustee's decision is not signed by its identity key") from exc
    return TrusteeDecision.from_bytes(decision_bytes)


def find_registration(entries: Sequence[LogEntry], warrant_id: str) -> WarrantRegistered | None:
    for e in entries:
        if isinstance(e, WarrantRegistered) and e.warrant_id == warrant_id:
            return e
    return None


def decide(
    opening: WarrantOpening,
    *,
    trustee_id: str,
    policy: ScopePolicy,
    log_entries: Sequence[LogEntry],
    now: int,
    usage_period: int = 365 * 86_400,
) -> TrusteeDecision:
    """Check the warrant independently and approve or deny it, with every reason."""
    w = opening.signed.warrant
    reasons: list[Refusal] = []
    try:
        verify_warrant(opening.signed, judge_keys_from_log(log_entries))
    except JudgeSignatureError as exc:
        reasons.append(Refusal("judge-signature", str(exc)))
    registered = find_registration(log_entries, w.warrant_id)
    digest = warrant_digest(opening.signed, opening.salt)
    if registered is None:
        reasons.append(Refusal("not-registered", "no WarrantRegistered entry in the log"))
    else:
        try:
            expected = opening.registration_entry(
                time=registered.time, approvals_required=registered.approvals_required
            )
        except AccessError as exc:  # pragma: no cover - opening is already validated
            reasons.append(Refusal("registration", str(exc)))
        else:
            if expected != registered or not constant_time_equal(digest, registered.warrant_digest):
                reasons.append(
                    Refusal("registration-mismatch", "the logged commitment is for another warrant")
                )
    if now > access_expires_at(opening.signed):
        reasons.append(Refusal("expired", "the warrant's access period is over"))
    if now < w.issued_at:
        reasons.append(Refusal("not-yet-issued", "the warrant is dated in the future"))
    usage = AccessUsage.from_entries(log_entries, since=max(0, now - usage_period), until=now + 1)
    reasons.extend(policy.check(w, usage))
    return TrusteeDecision(
        warrant_id=w.warrant_id,
        trustee_id=trustee_id,
        warrant_digest=digest,
        approved=not reasons,
        reasons=tuple(reasons),
        decided_at=now,
    )

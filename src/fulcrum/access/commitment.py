"""WarrantRegistered: a salted commitment to the signed warrant and public fields; its opening.

``warrant_digest`` = SHA-256(domain_message("fulcrum/access/warrant-commitment/v1", salt, signed
warrant bytes)) and ``target_commitment`` = ``translog.commit_target(canonical_json(targets),
salt)``. The salt (>= 16 bytes, 32 by default) stays with the platform and the trustees until the
warrant is unsealed; then the ``WarrantOpening`` (signed warrant + salt) is published and
``WarrantUnsealed.unsealed_digest`` = SHA-256 of its canonical bytes. Anyone can check an opening
against the logged commitment with ``verify_opening``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fulcrum.access.errors import WarrantFormatError
from fulcrum.access.warrant import SignedWarrant
from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json, domain_message
from fulcrum.hazmat.symmetric import constant_time_equal, random_bytes, sha256
from fulcrum.translog import WarrantRegistered, WarrantUnsealed, commit_target

COMMITMENT_DOMAIN = "fulcrum/access/warrant-commitment/v1"
SALT_BYTES = 32
MIN_SALT_BYTES = 16
#: How long after the window end the trustees still act on requests under a warrant.
ACCESS_GRACE = 30 * 86_400


def warrant_digest(signed: SignedWarrant, salt: bytes) -> bytes:
    return sha256(domain_message(COMMITMENT_DOMAIN, salt, signed.to_bytes()))


def target_commitment(signed: SignedWarrant, salt: bytes) -> bytes:
    return commit_target(canonical_json(list(signed.warrant.targets)), salt)


def access_expires_at(signed: SignedWarrant) -> int:
    return signed.warrant.window_end + ACCESS_GRACE


@dataclass(frozen=True)
class WarrantOpening:
    """The secret half of a registration: the signed warrant and the commitment salt."""

    signed: SignedWarrant
    salt: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.salt, bytes) or len(self.salt) < MIN_SALT_BYTES:
            raise WarrantFormatError(f"commitment salt must be at least {MIN_SALT_BYTES} bytes")

    @classmethod
    def create(cls, signed: SignedWarrant, salt: bytes | None = None) -> WarrantOpening:
        return cls(signed, random_bytes(SALT_BYTES) if salt is None else salt)

    def registration_entry(self, *, time: int, approvals_required: int) -> WarrantRegistered:
        """The ``WarrantRegistered`` fields: commitments and public fields, no target in clear."""
        w = self.signed.warrant
        return WarrantRegistered(
            time=time,
            warrant_id=w.warrant_id,
            agency=w.agency,
            jurisdiction=w.jurisdiction,
            warrant_digest=warrant_digest(self.signed, self.salt),
            target_commitment=target_commitment(self.signed, self.salt),
            target_count=len(w.targets),
            judge_key_id=w.judge_key_id,
            approvals_required=approvals_required,
            max_messages=w.max_messages,
            scope_start=w.window_start,
            scope_end=w.window_end,
            forward_seconds=w.prospective_seconds,
            back_seconds=w.retrospective_seconds,
            notify_after=w.notify_after,
            expires_at=access_expires_at(self.signed),
        )

    def to_bytes(self) -> bytes:
        return canonical_json(
            {"signed_warrant": b64e(self.signed.to_bytes()), "salt": b64e(self.salt)}
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> WarrantOpening:
        import json

        try:
            obj = json.loads(bytes(data))
            if not isinstance(obj, dict) or set(obj) != {"signed_warrant", "salt"}:
                raise WarrantFormatError("warrant opening has the wrong keys")
            opening = cls(SignedWarrant.from_bytes(b64d(obj["signed_warrant"])), b64d(obj["salt"]))
        except (ValueError, EncodingError, TypeError, RecursionError) as exc:
            if isinstance(exc, WarrantFormatError):
                raise
            raise WarrantFormatError("malformed warrant opening") from exc
        if opening.to_bytes() != bytes(data):
            raise WarrantFormatError("warrant opening is not in canonical form")
        return opening

    def unsealed_entry(self, *, time: int) -> WarrantUnsealed:
        return WarrantUnsealed(
            time=time,
            warrant_id=self.signed.warrant.warrant_id,
            unsealed_digest=sha256(self.to_bytes()),
        )


def verify_opening(
    opening: WarrantOpening, registered: WarrantRegistered, unsealed: WarrantUnsealed | None = None
) -> bool:
    """Whether an opening matches the logged commitment (and the unseal entry, if given)."""
    w = opening.signed.warrant
    ok = (
        w.warrant_id == registered.warrant_id
        and constant_time_equal(
            warrant_digest(opening.signed, opening.salt), registered.warrant_digest
        )
        and constant_time_equal(
            target_commitment(opening.signed, opening.salt), registered.target_commitment
        )
        and (w.window_start, w.window_end) == (registered.scope_start, registered.scope_end)
        and (w.agency, w.jurisdiction, len(w.targets), w.notify_after)
        == (registered.agency, registered.jurisdiction, registered.target_count,
            registered.notify_after)
    )  # fmt: skip
    if unsealed is not None:
        ok = ok and unsealed.warrant_id == w.warrant_id
        ok = ok and constant_time_equal(sha256(opening.to_bytes()), unsealed.unsealed_digest)
    return ok

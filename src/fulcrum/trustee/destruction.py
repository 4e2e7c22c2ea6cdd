"""A trustee destroys its own share of an epoch once its retention period is over.

The trustee's own rules (``EpochRules``: epoch length and retention, set by its operator, not by
the platform) and its own clock decide when: not before ``valid_until + retention`` of the window
it agreed to in the epoch's DKG. It then signs a ``ShareDestruction`` statement with its identity
key, keeps it (public) and wipes the share (``TrusteeKeyStore.destroy``). Asking again returns
the same statement. The platform checks the signature against the pinned identity key and that
the statement names the share's verification key in the logged bundle, then appends the
``ShareDestroyed`` entry whose ``attestation_digest`` is ``ShareDestruction.attestation_digest``.

No I/O here beyond the key store; time is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fulcrum.encoding import b64d, b64e, canonical_json, domain_message
from fulcrum.escrow.errors import EscrowError
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.signing import VerifyKey
from fulcrum.hazmat.symmetric import sha256

if TYPE_CHECKING:
    from fulcrum.trustee.keystore import TrusteeKeyStore

STATEMENT_LABEL = "fulcrum/trustee/share-destroyed/v1"
ATTESTATION_LABEL = "fulcrum/trustee/share-destroyed-attestation/v1"


class DestructionRefused(ValueError):
    """The share cannot be destroyed now: ``code`` is ``retention_not_over`` or ``no_share``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class StatementInvalid(ValueError):
    """A statement of destruction is malformed, mis-signed, or about another share."""


@dataclass(frozen=True)
class EpochRules:
    """A trustee's own escrow rules: the epoch length it keys and how long it keeps a share."""

    epoch_seconds: int
    retention_seconds: int

    def __post_init__(self) -> None:
        if not 60 <= self.epoch_seconds <= 366 * 86400:
            raise ValueError("epoch_seconds must be between one minute and one year")
        if not 0 <= self.retention_seconds <= 5 * 366 * 86400:
            raise ValueError("retention_seconds must be between 0 and five years")

    def window_ms(self, epoch: int) -> tuple[int, int]:
        start = epoch * self.epoch_seconds * 1000
        return start, start + self.epoch_seconds * 1000

    def destroy_at_ms(self, valid_until: int) -> int:
        """The first moment (ms) a share of a window ending at ``valid_until`` may be destroyed."""
        return valid_until + self.retention_seconds * 1000


@dataclass(frozen=True)
class ShareDestruction:
    """What a trustee signs when it has destroyed its share (no secret in it)."""

    trustee_id: str
    epoch: int
    share_index: int
    verification_key: bytes
    destroyed_at: int

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "destroyed_at": self.destroyed_at,
                "epoch": self.epoch,
                "share_index": self.share_index,
                "trustee_id": self.trustee_id,
                "verification_key": b64e(self.verification_key),
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ShareDestruction:
        import json

        try:
            obj = json.loads(data)
            out = cls(
                trustee_id=str(obj["trustee_id"]),
                epoch=int(obj["epoch"]),
                share_index=int(obj["share_index"]),
                verification_key=b64d(str(obj["verification_key"]), length=32),
                destroyed_at=int(obj["destroyed_at"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise StatementInvalid(f"malformed statement of destruction: {exc}") from exc
        if out.to_bytes() != data:
            raise StatementInvalid("statement of destruction is not in canonical form")
        return out

    def signed_message(self) -> bytes:
        return domain_message(STATEMENT_LABEL, self.to_bytes())

    def attestation_digest(self, signature: bytes) -> bytes:
        """The ``ShareDestroyed`` entry's digest: binds the statement and its signature."""
        return sha256(domain_message(ATTESTATION_LABEL, self.to_bytes(), signature))


@dataclass(frozen=True)
class SignedDestruction:
    statement: ShareDestruction
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "trustee_id": self.statement.trustee_id,
            "epoch": self.statement.epoch,
            "statement": b64e(self.statement.to_bytes()),
            "signature": b64e(self.signature),
        }

    @classmethod
    def from_json(cls, obj: Any) -> SignedDestruction:
        if not isinstance(obj, dict):
            raise StatementInvalid("statement of destruction must be an object")
        try:
            raw = b64d(str(obj["statement"]))
            signature = b64d(str(obj["signature"]), length=64)
        except (KeyError, ValueError) as exc:
            raise StatementInvalid(f"malformed statement of destruction: {exc}") from exc
        return cls(ShareDestruction.from_bytes(raw), signature)

    def verify(self, identity: VerifyKey) -> None:
        try:
            identity.verify(self.signature, self.statement.signed_message())
        except CryptoError as exc:
            raise StatementInvalid("statement of destruction: bad signature") from exc

    @property
    def attestation_digest(self) -> bytes:
        return self.statement.attestation_digest(self.signature)


def destroy_own_share(
    store: TrusteeKeyStore,
    epoch: int,
    rules: EpochRules,
    now: int,
    *,
    window: tuple[int, int] | None = None,
) -> SignedDestruction:
    """Destroy this trustee's share of ``epoch`` if its retention is over (``now`` in seconds);
    idempotent: a share already destroyed this way returns the statement kept then.

    The window is the one saved at the DKG's end; ``window`` (e.g. from the log's ``EpochKey``
    entry) is used only for a share saved without one."""
    kept = store.statement(epoch)
    if kept is not None:
        signed = SignedDestruction.from_json(kept)
        store.destroy(epoch)  # completes a destruction interrupted after the statement was kept
        return signed
    if store.is_destroyed(epoch) or not store.has_share(epoch):
        raise DestructionRefused("no_share", f"{store.name} holds no share for epoch {epoch}")
    agreed = store.window(epoch) or window
    if agreed is None:
        raise DestructionRefused("no_share", f"{store.name} does not know epoch {epoch}'s window")
    due = rules.destroy_at_ms(agreed[1])
    if now * 1000 < due:
        raise DestructionRefused(
            "retention_not_over",
            f"epoch {epoch}'s retention ends at {due // 1000} (trustee clock {now}); "
            "the share is kept until then",
        )
    try:
        share = store.share(epoch)
    except EscrowError as exc:
        raise DestructionRefused("no_share", str(exc)) from exc
    statement = ShareDestruction(store.name, epoch, share.index,
                                 share.verification_key.to_bytes(), now)  # fmt: skip
    signed = SignedDestruction(statement, store.identity().sign(statement.signed_message()))
    store.save_statement(epoch, signed.to_json())
    store.destroy(epoch)
    return signed

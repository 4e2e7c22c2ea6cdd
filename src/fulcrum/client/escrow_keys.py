"""Accepting an escrow epoch key on the client (pure: no I/O, no clock).

A client uses an epoch key ``Y_e`` only if all of the following hold (``accept_epoch_key``):

1. the trustee keys the platform presents are the ones pinned on first use (a change is refused:
   the platform could otherwise present trustees of its own);
2. at least t of those trustees signed the bundle, and its verification keys are consistent with
   ``Y_e`` (``verify_epoch_key_bundle``);
3. the checkpoint is signed by the pinned log key and cosigned by at least two pinned witnesses;
4. the ``EpochKey`` entry is included in that checkpoint (RFC 9162 inclusion proof), and it names
   the same epoch, key, threshold, validity window and trustees as the bundle.

Pinned roots and accepted keys are JSON in ``core.layer_state["escrow"]`` (see ``escrow_layer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fulcrum.client.core import ClientError
from fulcrum.encoding import EncodingError, b64d, b64e
from fulcrum.escrow import EpochKeyBundle, EpochKeySignature, verify_epoch_key_bundle
from fulcrum.escrow.errors import EscrowError
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.signing import VerifyKey
from fulcrum.translog import (
    CosignatureVerifier,
    EpochKey,
    TranslogError,
    leaf_hash,
    parse_entry,
    verifier_from_vkey,
    verify_cosigned_checkpoint,
    verify_inclusion,
)
from fulcrum.wire.translog import EpochKeyOut, LogKeys

MIN_WITNESSES = 2  # never fewer, whatever the server says


class EscrowUnavailable(ClientError):
    """The server offers no escrow epoch key, so this client will not send (nothing was sent).

    Development servers without escrow can be used with ``FULCRUM_DEV_NO_ESCROW=1``."""


class EpochKeyRefused(ClientError):
    """The platform offered an epoch key this client does not accept (nothing was sent)."""


@dataclass(frozen=True)
class LogRoots:
    """The log key and witness keys a client pinned (first use, or out of band)."""

    log_vkey: str
    witness_vkeys: tuple[str, ...]
    min_witnesses: int = MIN_WITNESSES

    @classmethod
    def from_keys(cls, keys: LogKeys) -> LogRoots:
        return cls(keys.log_vkey, tuple(keys.witness_vkeys), max(MIN_WITNESSES, keys.min_witnesses))

    def to_json(self) -> dict[str, Any]:
        return {
            "log_vkey": self.log_vkey,
            "witness_vkeys": list(self.witness_vkeys),
            "min_witnesses": self.min_witnesses,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> LogRoots:
        return cls(
            str(obj["log_vkey"]),
            tuple(str(v) for v in obj["witness_vkeys"]),
            max(MIN_WITNESSES, int(obj["min_witnesses"])),
        )


@dataclass(frozen=True)
class TrusteeRoots:
    """The trustees' names and Ed25519 keys (by index 1..n), pinned on first use."""

    names: tuple[str, ...]
    keys: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {"names": list(self.names), "keys": [b64e(k) for k in self.keys]}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> TrusteeRoots:
        return cls(
            tuple(str(n) for n in obj["names"]),
            tuple(b64d(str(k), length=32) for k in obj["keys"]),
        )


def offered_trustees(evidence: EpochKeyOut) -> TrusteeRoots:
    try:
        keys = tuple(b64d(k, length=32) for k in evidence.trustee_keys)
    except EncodingError as exc:
        raise EpochKeyRefused(f"malformed trustee key: {exc}") from exc
    if len(keys) != len(evidence.trustee_names):
        raise EpochKeyRefused("trustee names and keys do not match")
    return TrusteeRoots(tuple(evidence.trustee_names), keys)


def accept_epoch_key(
    evidence: EpochKeyOut, log: LogRoots, trustees: TrusteeRoots
) -> EpochKeyBundle:
    """Return the bundle if ``evidence`` passes every check above; else ``EpochKeyRefused``."""
    if offered_trustees(evidence) != trustees:
        raise EpochKeyRefused("the trustee keys differ from the ones this device pinned")
    try:
        bundle = EpochKeyBundle.from_bytes(b64d(evidence.bundle))
        if bundle.epoch != evidence.epoch:
            raise EpochKeyRefused("the bundle is for another epoch")
        signatures = [
            EpochKeySignature(s.trustee_index, b64d(s.signature, length=64))
            for s in evidence.signatures
        ]
        keys = {i + 1: VerifyKey(k) for i, k in enumerate(trustees.keys)}
        verify_epoch_key_bundle(bundle, signatures, keys)
    except (EscrowError, EncodingError, CryptoError) as exc:
        raise EpochKeyRefused(f"trustee signatures: {exc}") from exc
    try:
        cosigned = verify_cosigned_checkpoint(
            evidence.checkpoint.encode("utf-8"),
            verifier_from_vkey(log.log_vkey),
            [CosignatureVerifier.from_vkey(v) for v in log.witness_vkeys],
            min_witnesses=log.min_witnesses,
        )
        cp = cosigned.checkpoint
        entry = b64d(evidence.entry)
        if not evidence.log_index < cp.size:
            raise EpochKeyRefused("the epoch key entry is not in the checkpoint")
        proof = [b64d(p, length=32) for p in evidence.inclusion]
        verify_inclusion(leaf_hash(entry), evidence.log_index, cp.size, proof, cp.root_hash)
        logged = parse_entry(entry)
    except (TranslogError, EncodingError, ValueError) as exc:
        raise EpochKeyRefused(f"log evidence: {exc}") from exc
    if not isinstance(logged, EpochKey) or (
        logged.epoch,
        logged.public_key,
        logged.threshold,
        logged.valid_from,
        logged.valid_until,
        tuple(logged.trustees),
    ) != (
        bundle.epoch,
        bundle.group_key.to_bytes(),
        bundle.threshold,
        bundle.valid_from,
        bundle.valid_until,
        trustees.names,
    ):
        raise EpochKeyRefused("the logged entry does not match the epoch key bundle")
    return bundle

"""The epoch key bundle that trustees sign and clients accept (with >= t signatures).

Canonical bytes: RFC 8785 JSON of ::

    {"domain": "escrow-epoch-v1", "epoch": e, "threshold": t,
     "group_key": b64(Y_e), "verification_keys": [b64(Y_{e,1}), ..., b64(Y_{e,n})],
     "transcript_hash": b64(...), "valid_from": ms, "valid_until": ms}

Trustee j signs ``domain_message("escrow-epoch-sig-v1", canonical bytes)`` with its Ed25519 key.
Times are milliseconds since the Unix epoch, [valid_from, valid_until).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fulcrum.encoding import (
    EncodingError,
    b64d,
    b64e,
    canonical_json,
    domain_message,
    parse_json_object,
)
from fulcrum.escrow.dkg import DkgResult
from fulcrum.escrow.errors import EpochKeyBundleError
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.ristretto import GROUP_ORDER, Point, Scalar
from fulcrum.hazmat.signing import SigningKey, VerifyKey

BUNDLE_DOMAIN = "escrow-epoch-v1"
SIGNATURE_DOMAIN = "escrow-epoch-sig-v1"


_KEYS = frozenset(
    {"domain", "epoch", "threshold", "group_key", "verification_keys", "transcript_hash"}
    | {"valid_from", "valid_until"}
)


def lagrange_coefficients(indices: Sequence[int], at: int = 0) -> dict[int, Scalar]:
    """lambda_j = prod_{m != j} (at - m) / (j - m) mod L, for distinct positive indices."""
    if len(set(indices)) != len(indices) or any(i < 1 for i in indices):
        raise ValueError("indices must be distinct positive integers")
    out = {}
    for j in indices:
        num, den = 1, 1
        for m in indices:
            if m != j:
                num, den = num * (at - m) % GROUP_ORDER, den * (j - m) % GROUP_ORDER
        out[j] = Scalar.from_int(num * pow(den, -1, GROUP_ORDER))
    return out


@dataclass(frozen=True)
class EpochKeyBundle:
    epoch: int
    group_key: Point
    verification_keys: tuple[Point, ...]
    transcript_hash: bytes
    valid_from: int
    valid_until: int
    threshold: int

    def __post_init__(self) -> None:
        n = len(self.verification_keys)
        for name in ("epoch", "threshold", "valid_from", "valid_until"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise EpochKeyBundleError(f"{name} must be an integer")
        if not 0 <= self.epoch < 2**53:
            raise EpochKeyBundleError("epoch out of range")
        if not 1 <= self.threshold <= n:
            raise EpochKeyBundleError("need 1 <= threshold <= number of verification keys")
        if self.group_key.is_identity() or any(v.is_identity() for v in self.verification_keys):
            raise EpochKeyBundleError("identity point in epoch key bundle")
        if len(self.transcript_hash) != 32:
            raise EpochKeyBundleError("transcript hash must be 32 bytes")
        if not 0 <= self.valid_from < self.valid_until < 2**53:
            raise EpochKeyBundleError("need 0 <= valid_from < valid_until")

    @classmethod
    def from_dkg(cls, result: DkgResult, *, valid_from: int, valid_until: int) -> EpochKeyBundle:
        return cls(
            epoch=result.epoch,
            group_key=result.group_key,
            verification_keys=result.verification_keys,
            transcript_hash=result.transcript_hash,
            valid_from=valid_from,
            valid_until=valid_until,
            threshold=result.t,
        )

    @property
    def n(self) -> int:
        return len(self.verification_keys)

    def verification_key(self, index: int) -> Point:
        if not 1 <= index <= self.n:
            raise EpochKeyBundleError(f"no trustee {index} in epoch {self.epoch}")
        return self.verification_keys[index - 1]

    def is_valid_at(self, now_ms: int) -> bool:
        return self.valid_from <= now_ms < self.valid_until

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": BUNDLE_DOMAIN,
            "epoch": self.epoch,
            "threshold": self.threshold,
            "group_key": b64e(self.group_key.to_bytes()),
            "verification_keys": [b64e(v.to_bytes()) for v in self.verification_keys],
            "transcript_hash": b64e(self.transcript_hash),
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_bytes(cls, data: bytes) -> EpochKeyBundle:
        try:
            obj = parse_json_object(data)
            if set(obj) != _KEYS or obj["domain"] != BUNDLE_DOMAIN:
                raise EpochKeyBundleError("epoch key bundle has the wrong keys or domain")
            bundle = cls(
                epoch=obj["epoch"],
                group_key=Point.from_bytes(b64d(obj["group_key"], length=32)),
                verification_keys=tuple(
                    Point.from_bytes(b64d(v, length=32)) for v in obj["verification_keys"]
                ),
                transcript_hash=b64d(obj["transcript_hash"], length=32),
                valid_from=obj["valid_from"],
                valid_until=obj["valid_until"],
                threshold=obj["threshold"],
            )
        except (KeyError, TypeError, EncodingError, CryptoError) as exc:
            raise EpochKeyBundleError("malformed epoch key bundle") from exc
        if bundle.to_bytes() != bytes(data):
            raise EpochKeyBundleError("epoch key bundle is not in canonical form")
        return bundle

    def check_consistency(self) -> None:
        """All Y_{e,j} lie on one degree t-1 polynomial in the exponent whose value at 0 is Y_e."""
        first = list(range(1, self.threshold + 1))
        for target in [0, *range(self.threshold + 1, self.n + 1)]:
            acc = Point.identity()
            for j, coeff in lagrange_coefficients(first, at=target).items():
                acc = acc + self.verification_key(j).mul(coeff)
            expected = self.group_key if target == 0 else self.verification_key(target)
            if acc != expected:
                raise EpochKeyBundleError("verification keys do not match the group key")


@dataclass(frozen=True)
class EpochKeySignature:
    trustee_index: int
    signature: bytes


def _signed_message(bundle: EpochKeyBundle) -> bytes:
    return domain_message(SIGNATURE_DOMAIN, bundle.to_bytes())


def sign_epoch_key_bundle(
    bundle: EpochKeyBundle, trustee_index: int, key: SigningKey
) -> EpochKeySignature:
    return EpochKeySignature(trustee_index, key.sign(_signed_message(bundle)))


def verify_epoch_key_bundle(
    bundle: EpochKeyBundle,
    signatures: Sequence[EpochKeySignature],
    trustee_keys: Mapping[int, VerifyKey],
    min_signatures: int | None = None,
) -> EpochKeyBundle:
    """Accept ``bundle`` only with valid signatures from >= ``min_signatures`` distinct trustees.

    ``trustee_keys`` maps trustee index (1..n) to its registered Ed25519 key. ``min_signatures``
    defaults to, and may not be below, the bundle's threshold t. Also checks that the verification
    keys are consistent with the group key. Raises ``EpochKeyBundleError``; returns the bundle.
    """
    need = bundle.threshold if min_signatures is None else min_signatures
    if need < bundle.threshold:
        raise EpochKeyBundleError("min_signatures may not be below the bundle threshold")
    if set(trustee_keys) != set(range(1, bundle.n + 1)):
        raise EpochKeyBundleError("trustee keys must cover exactly trustees 1..n of the bundle")
    message = _signed_message(bundle)
    good = {
        sig.trustee_index
        for sig in signatures
        if sig.trustee_index in trustee_keys
        and trustee_keys[sig.trustee_index].is_valid(sig.signature, message)
    }
    if len(good) < need:
        raise EpochKeyBundleError(f"{len(good)} valid trustee signatures, need {need}")
    bundle.check_consistency()
    return bundle

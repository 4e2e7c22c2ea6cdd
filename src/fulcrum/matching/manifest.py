"""The custodian's signed, per-epoch bank manifest, and the roots it commits to.

Canonical bytes are RFC 8785 JSON of the unsigned fields and ``core_digest`` is their SHA-256;
the custodian and each source sign ``domain_message("fulcrum/match/manifest/v2", core_digest)``
with Ed25519. Signing the digest lets a log auditor check the source co-signatures of a logged
``BankManifest`` entry (which carries the digest, not the manifest) with the sources' keys alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

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
from fulcrum.hazmat.symmetric import sha256
from fulcrum.matching.errors import ManifestError
from fulcrum.matching.lsh import MatchingParams

MANIFEST_VERSION = 1
_SIGN_LABEL = "fulcrum/match/manifest/v2"
_INT_FIELDS = ("epoch", "k", "m", "s", "account_threshold", "review_capacity", "entry_count")
_BYTES_FIELDS = {
    "voprf_public_key": 32,
    "lsh_seed": 32,
    "commitment_root": 32,
    "tag_table_root": 32,
    "custodian_key": 32,
}


def manifest_signed_message(core_digest: bytes) -> bytes:
    """What the custodian and the sources sign for the manifest with this core digest."""
    if len(core_digest) != 32:
        raise ManifestError("a manifest digest is 32 bytes")
    return domain_message(_SIGN_LABEL, core_digest)


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 9162 Merkle tree hash (SHA-256) over the given leaf data."""
    level = [sha256(b"\x00" + leaf) for leaf in leaves]
    if not level:
        return sha256(b"")
    return _mth(level)


def _mth(nodes: list[bytes]) -> bytes:
    if len(nodes) == 1:
        return nodes[0]
    split = 1
    while split * 2 < len(nodes):
        split *= 2
    return sha256(b"\x01" + _mth(nodes[:split]) + _mth(nodes[split:]))


@dataclass(frozen=True)
class ManifestTrust:
    """What a client or auditor accepts: the custodian's key, the sources' keys and how many
    distinct source co-signatures a manifest needs."""

    custodian_key: VerifyKey
    source_keys: Mapping[str, VerifyKey]
    min_source_signatures: int = 2


@dataclass(frozen=True)
class BankManifest:
    epoch: int
    voprf_public_key: bytes
    lsh_seed: bytes
    k: int
    m: int
    s: int
    account_threshold: int
    review_capacity: int
    entry_count: int
    commitment_root: bytes
    tag_table_root: bytes
    custodian_key: bytes
    custodian_signature: bytes = field(default=b"", repr=False)
    source_signatures: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)

    @property
    def params(self) -> MatchingParams:
        return MatchingParams(
            epoch=self.epoch,
            lsh_seed=self.lsh_seed,
            k=self.k,
            m=self.m,
            s=self.s,
            account_threshold=self.account_threshold,
            review_capacity=self.review_capacity,
        )

    def _core(self) -> dict[str, Any]:
        core: dict[str, Any] = {"version": MANIFEST_VERSION}
        for name in _INT_FIELDS:
            core[name] = getattr(self, name)
        for name in _BYTES_FIELDS:
            core[name] = b64e(getattr(self, name))
        return core

    def canonical_bytes(self) -> bytes:
        """The bytes everyone signs (and the transparency log records)."""
        return canonical_json(self._core())

    def core_digest(self) -> bytes:
        """SHA-256 of the canonical unsigned fields: what the log entry and signatures name."""
        return sha256(self.canonical_bytes())

    def signed_message(self) -> bytes:
        return manifest_signed_message(self.core_digest())

    def digest(self) -> bytes:
        """SHA-256 of the whole signed manifest (signatures included)."""
        return sha256(self.to_bytes())

    def to_log_entry_fields(self) -> dict[str, Any]:
        """JSON-ready fields for the transparency log (signatures included)."""
        fields = self._core()
        fields["custodian_signature"] = b64e(self.custodian_signature)
        fields["source_signatures"] = [
            {"source": name, "signature": b64e(sig)} for name, sig in self.source_signatures
        ]
        return fields

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_log_entry_fields())

    @classmethod
    def from_bytes(cls, data: bytes) -> BankManifest:
        try:
            obj = parse_json_object(data)
            expected = {
                "version",
                *_INT_FIELDS,
                *_BYTES_FIELDS,
                "custodian_signature",
                "source_signatures",
            }
            if set(obj) != expected or obj["version"] != MANIFEST_VERSION:
                raise ManifestError("unexpected manifest fields or version")
            ints = {}
            for name in _INT_FIELDS:
                value = obj[name]
                if type(value) is not int or not 0 <= value < 1 << 53:
                    raise ManifestError(f"manifest field {name} must be a non-negative integer")
                ints[name] = value
            raw = {name: b64d(obj[name], length=n) for name, n in _BYTES_FIELDS.items()}
            sigs = obj["source_signatures"]
            if not isinstance(sigs, list):
                raise ManifestError("source_signatures must be a list")
            parsed: list[tuple[str, bytes]] = []
            for item in sigs:
                if not isinstance(item, dict) or set(item) != {"source", "signature"}:
                    raise ManifestError("malformed source signature")
                if not isinstance(item["source"], str) or not item["source"]:
                    raise ManifestError("malformed source name")
                parsed.append((item["source"], b64d(item["signature"], length=64)))
            manifest = cls(
                epoch=ints["epoch"],
                voprf_public_key=raw["voprf_public_key"],
                lsh_seed=raw["lsh_seed"],
                k=ints["k"],
                m=ints["m"],
                s=ints["s"],
                account_threshold=ints["account_threshold"],
                review_capacity=ints["review_capacity"],
                entry_count=ints["entry_count"],
                commitment_root=raw["commitment_root"],
                tag_table_root=raw["tag_table_root"],
                custodian_key=raw["custodian_key"],
                custodian_signature=b64d(obj["custodian_signature"], length=64),
                source_signatures=tuple(parsed),
            )
            manifest.params  # noqa: B018  (range checks)
        except EncodingError as exc:
            raise ManifestError(f"malformed manifest: {exc}") from exc
        except ValueError as exc:
            if isinstance(exc, ManifestError):
                raise
            raise ManifestError(f"invalid manifest parameters: {exc}") from exc
        if manifest.to_bytes() != data:
            raise ManifestError("manifest is not in canonical form")
        return manifest

    def signed_by_custodian(self, key: SigningKey) -> BankManifest:
        if key.public_key().raw != self.custodian_key:
            raise ManifestError("signing key is not the manifest's custodian key")
        return replace(self, custodian_signature=key.sign(self.signed_message()))

    def cosigned(self, source: str, key: SigningKey) -> BankManifest:
        others = tuple(s for s in self.source_signatures if s[0] != source)
        sig = (source, key.sign(self.signed_message()))
        return replace(self, source_signatures=tuple(sorted((*others, sig))))

    def verify(self, trust: ManifestTrust) -> None:
        """Raise ``ManifestError`` unless the custodian and enough known sources signed it."""
        if self.custodian_key != trust.custodian_key.raw:
            raise ManifestError("manifest names a custodian key that is not trusted")
        message = self.signed_message()
        try:
            trust.custodian_key.verify(self.custodian_signature, message)
        except CryptoError as exc:
            raise ManifestError("custodian signature does not verify") from exc
        good: set[str] = set()
        for source, sig in self.source_signatures:
            key = trust.source_keys.get(source)
            if key is not None and key.is_valid(sig, message):
                good.add(source)
        if len(good) < trust.min_source_signatures:
            raise ManifestError(
                f"manifest has {len(good)} valid source co-signatures, "
                f"{trust.min_source_signatures} required"
            )

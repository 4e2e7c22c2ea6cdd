"""Wire shapes of private matching.

A message with image attachments carries ``extensions["vouchers"]``: a list of
``VoucherSlot`` objects, one per image attachment (``attachment`` is the index into the
envelope's ``attachments``; ``bundle`` is the voucher bundle, base64url). The platform's
``/v1/matching/manifest`` returns the custodian's signed manifest (canonical JSON) and
``/v1/matching/evaluate`` relays a blinded batch (``application/octet-stream`` both ways).
"""

from __future__ import annotations

from pydantic import Field

from fulcrum.encoding import b64d, b64e
from fulcrum.hazmat.signing import VerifyKey
from fulcrum.matching.manifest import ManifestTrust
from fulcrum.wire.api import B64, WireModel

VOUCHERS_EXTENSION = "vouchers"


class VoucherSlot(WireModel):
    attachment: int = Field(ge=0, lt=10)
    bundle: B64


class TrustRoots(WireModel):
    """The keys a client pins to accept a bank manifest (shipped with the app; the custodian
    writes them to ``<data_dir>/custodian/trust.json``)."""

    custodian_key: B64
    source_keys: dict[str, B64]
    min_source_signatures: int = Field(default=2, ge=1)

    @classmethod
    def from_trust(cls, trust: ManifestTrust) -> TrustRoots:
        return cls(
            custodian_key=b64e(trust.custodian_key.raw),
            source_keys={n: b64e(k.raw) for n, k in sorted(trust.source_keys.items())},
            min_source_signatures=trust.min_source_signatures,
        )

    def to_trust(self) -> ManifestTrust:
        return ManifestTrust(
            VerifyKey(b64d(self.custodian_key, length=32)),
            {n: VerifyKey(b64d(k, length=32)) for n, k in self.source_keys.items()},
            self.min_source_signatures,
        )


class ManifestLogOut(WireModel):
    """Where the platform logged a bank manifest: the entry (canonical bytes), its RFC 9162
    inclusion proof for the checkpoint's size, and the cosigned checkpoint note. The log and
    witness keys are included for clients that pin on first use; clients with pinned keys
    ignore them."""

    log_index: int = Field(ge=0)
    entry: B64
    inclusion: list[B64]
    checkpoint: str
    log_vkey: str
    witness_vkeys: list[str]
    min_witnesses: int = Field(ge=1)

"""Messages of the trustee DKG, with a canonical JSON wire form.

Broadcast messages (``DealerCommitment``, ``DealerReveal``, ``Complaint``, ``ComplaintResponse``)
go to every trustee over a reliable broadcast channel (the public log). ``DealerShare`` is PRIVATE:
it holds a plaintext secret share and the caller MUST send it to its one recipient encrypted and
authenticated (e.g. over an Olm session or HPKE to the trustee's key). It is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json, parse_json_object
from fulcrum.escrow.errors import DkgError
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.ristretto import Point, Scalar

DIGEST_BYTES = 32
SALT_BYTES = 32


@dataclass(frozen=True)
class DealerCommitment:
    """Phase 1 (broadcast): a hash commitment to the dealer's Feldman commitments."""

    epoch: int
    dealer: int
    digest: bytes


@dataclass(frozen=True)
class DealerReveal:
    """Phase 2 (broadcast): the Feldman commitments ``C_k = a_k·G`` and the commitment salt."""

    epoch: int
    dealer: int
    commitments: tuple[Point, ...]
    salt: bytes


@dataclass(frozen=True)
class DealerShare:
    """Phase 2 (PRIVATE, send encrypted): ``f_dealer(recipient)``."""

    epoch: int
    dealer: int
    recipient: int
    value: Scalar = field(repr=False)


@dataclass(frozen=True)
class Complaint:
    """Phase 3 (broadcast): ``complainer`` got no share or a share failing the Feldman check."""

    epoch: int
    dealer: int
    complainer: int


@dataclass(frozen=True)
class ComplaintResponse:
    """Phase 4 (broadcast): the dealer publicly reveals the complained share."""

    epoch: int
    dealer: int
    complainer: int
    value: Scalar = field(repr=False)


DkgMessage = DealerCommitment | DealerReveal | DealerShare | Complaint | ComplaintResponse

_TYPES: dict[type[Any], str] = {
    DealerCommitment: "dkg-commit",
    DealerReveal: "dkg-reveal",
    DealerShare: "dkg-share",
    Complaint: "dkg-complaint",
    ComplaintResponse: "dkg-response",
}


def encode_dkg_message(msg: DkgMessage) -> bytes:
    """Canonical JSON wire form (bytes as base64url)."""
    obj: dict[str, Any] = {"type": _TYPES[type(msg)], "epoch": msg.epoch, "dealer": msg.dealer}
    if isinstance(msg, DealerCommitment):
        obj["digest"] = b64e(msg.digest)
    elif isinstance(msg, DealerReveal):
        obj["commitments"] = [b64e(c.to_bytes()) for c in msg.commitments]
        obj["salt"] = b64e(msg.salt)
    elif isinstance(msg, DealerShare):
        obj["recipient"] = msg.recipient
        obj["value"] = b64e(msg.value.to_bytes())
    else:
        obj["complainer"] = msg.complainer
        if isinstance(msg, ComplaintResponse):
            obj["value"] = b64e(msg.value.to_bytes())
    return canonical_json(obj)


def _int(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise DkgError(f"dkg message: {key} must be a non-negative integer")
    return value


def decode_dkg_message(data: bytes) -> DkgMessage:
    """Strict parse of ``encode_dkg_message`` output; ``DkgError`` on any defect."""
    try:
        obj = parse_json_object(data)
        kind = obj.get("type")
        epoch, dealer = _int(obj, "epoch"), _int(obj, "dealer")
        msg: DkgMessage
        if kind == "dkg-commit":
            keys = {"digest"}
            msg = DealerCommitment(epoch, dealer, b64d(obj["digest"], length=DIGEST_BYTES))
        elif kind == "dkg-reveal":
            keys = {"commitments", "salt"}
            raw = obj["commitments"]
            if not isinstance(raw, list) or not raw:
                raise DkgError("dkg message: commitments must be a non-empty list")
            points = tuple(Point.from_bytes(b64d(c, length=32)) for c in raw)
            msg = DealerReveal(epoch, dealer, points, b64d(obj["salt"], length=SALT_BYTES))
        elif kind == "dkg-share":
            keys = {"recipient", "value"}
            value = Scalar.from_bytes(b64d(obj["value"], length=32))
            msg = DealerShare(epoch, dealer, _int(obj, "recipient"), value)
        elif kind == "dkg-complaint":
            keys = {"complainer"}
            msg = Complaint(epoch, dealer, _int(obj, "complainer"))
        elif kind == "dkg-response":
            keys = {"complainer", "value"}
            value = Scalar.from_bytes(b64d(obj["value"], length=32))
            msg = ComplaintResponse(epoch, dealer, _int(obj, "complainer"), value)
        else:
            raise DkgError("dkg message: unknown type")
        if set(obj) != keys | {"type", "epoch", "dealer"}:
            raise DkgError("dkg message: unexpected or missing keys")
    except (KeyError, TypeError, EncodingError, CryptoError) as exc:
        raise DkgError("dkg message: malformed") from exc
    if encode_dkg_message(msg) != bytes(data):
        raise DkgError("dkg message: not in canonical form")
    return msg

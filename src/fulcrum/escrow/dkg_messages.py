"""Messages of the trustee DKG, with a canonical JSON wire form.

Broadcast messages (``DealerCommitment``, ``DealerReveal``, ``Complaint``, ``ComplaintResponse``)
go to every trustee over a reliable broadcast channel (the public log). ``DealerShare`` is PRIVATE:
it holds a plaintext secret share and the caller MUST send it to its one recipient encrypted and
authenticated (``SealedShare`` below). It is never logged. Between separate trustee processes the
broadcast messages travel as ``SignedDkgMessage``s (see the transport section at the end).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fulcrum.encoding import (
    EncodingError,
    b64d,
    b64e,
    canonical_json,
    domain_message,
    parse_json_object,
)
from fulcrum.escrow.errors import DkgError
from fulcrum.hazmat.box import BoxSecretKey, box_open, box_seal
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.ristretto import Point, Scalar
from fulcrum.hazmat.signing import SigningKey, VerifyKey

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


# --- transport between separate trustee processes ---------------------------------------------
#
# Every broadcast message travels as a ``SignedDkgMessage`` (Ed25519 by its sender's identity key,
# bound to the coordinator's random session id), and every ``DealerShare`` as a ``SealedShare``:
# X25519-sealed to the recipient's box key and signed by the dealer. A coordinator that relays
# them can drop messages but can neither read a share nor forge or alter a message.

SESSION_BYTES = 16
SIGNED_LABEL = "fulcrum/escrow/dkg-signed/v1"
SHARE_LABEL = "fulcrum/escrow/dkg-share/v1"
BOX_KEY_LABEL = "fulcrum/escrow/trustee-box-key/v1"


def sender_of(msg: DkgMessage) -> int:
    """Who sends (and signs) ``msg``: the complainer of a complaint, else the dealer."""
    return msg.complainer if isinstance(msg, Complaint) else msg.dealer


def _bytes(obj: dict[str, Any], key: str, length: int | None = None) -> bytes:
    value = obj.get(key)
    if not isinstance(value, str):
        raise DkgError(f"dkg transport: {key} must be a base64url string")
    try:
        return b64d(value, length=length)
    except EncodingError as exc:
        raise DkgError(f"dkg transport: {key} is not base64url") from exc


@dataclass(frozen=True)
class DkgRosterEntry:
    """A trustee's public keys: identity (Ed25519) and box (X25519, signed by the identity)."""

    index: int
    name: str
    identity_key: bytes
    box_key: bytes
    box_signature: bytes

    @staticmethod
    def box_message(name: str, box_key: bytes) -> bytes:
        return domain_message(BOX_KEY_LABEL, name.encode("utf-8"), box_key)

    @classmethod
    def create(cls, index: int, name: str, identity: SigningKey, box_key: bytes) -> DkgRosterEntry:
        sig = identity.sign(cls.box_message(name, box_key))
        return cls(index, name, identity.public_key().raw, box_key, sig)

    def verify(self) -> DkgRosterEntry:
        """Raise ``DkgError`` unless the box key is signed by the identity key."""
        try:
            VerifyKey(self.identity_key).verify(
                self.box_signature, self.box_message(self.name, self.box_key)
            )
        except CryptoError as exc:
            raise DkgError(f"trustee {self.name}: box key not signed by its identity") from exc
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "identity_key": b64e(self.identity_key),
            "box_key": b64e(self.box_key),
            "box_signature": b64e(self.box_signature),
        }

    @classmethod
    def from_json(cls, obj: Any) -> DkgRosterEntry:
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            raise DkgError("dkg transport: malformed roster entry")
        keys = _bytes(obj, "identity_key", 32), _bytes(obj, "box_key", 32)
        entry = cls(_int(obj, "index"), obj["name"], *keys, _bytes(obj, "box_signature", 64))
        return entry.verify()


@dataclass(frozen=True)
class SignedDkgMessage:
    """A broadcast DKG message signed by its sender for one DKG session."""

    session: bytes
    body: bytes
    signature: bytes

    @staticmethod
    def _message(session: bytes, body: bytes) -> bytes:
        return domain_message(SIGNED_LABEL, session, body)

    @classmethod
    def sign(cls, session: bytes, msg: DkgMessage, key: SigningKey) -> SignedDkgMessage:
        if isinstance(msg, DealerShare):
            raise DkgError("a DealerShare is never broadcast; seal it")
        body = encode_dkg_message(msg)
        return cls(session, body, key.sign(cls._message(session, body)))

    def open(self, session: bytes, identity_keys: dict[int, bytes]) -> DkgMessage:
        """The message if it is for ``session`` and signed by its sender; else ``DkgError``."""
        if self.session != session:
            raise DkgError("dkg message from another session")
        msg = decode_dkg_message(self.body)
        if isinstance(msg, DealerShare):
            raise DkgError("a DealerShare may not be broadcast")
        sender = sender_of(msg)
        key = identity_keys.get(sender)
        if key is None:
            raise DkgError(f"dkg message from trustee {sender}, who is not on the roster")
        try:
            VerifyKey(key).verify(self.signature, self._message(session, self.body))
        except CryptoError as exc:
            raise DkgError(f"dkg message not signed by trustee {sender}") from exc
        return msg

    def to_json(self) -> dict[str, str]:
        return {"session": b64e(self.session), "body": b64e(self.body),
                "signature": b64e(self.signature)}  # fmt: skip

    @classmethod
    def from_json(cls, obj: Any) -> SignedDkgMessage:
        if not isinstance(obj, dict):
            raise DkgError("dkg transport: signed message must be an object")
        return cls(_bytes(obj, "session", SESSION_BYTES), _bytes(obj, "body"),
                   _bytes(obj, "signature", 64))  # fmt: skip


@dataclass(frozen=True)
class SealedShare:
    """A ``DealerShare`` sealed to its recipient's box key and signed by its dealer."""

    session: bytes
    epoch: int
    dealer: int
    recipient: int
    ciphertext: bytes
    signature: bytes

    def _aad(self) -> bytes:
        return domain_message(SHARE_LABEL, self.session, self.epoch.to_bytes(8, "big"),
                              bytes([self.dealer, self.recipient]))  # fmt: skip

    def _signed(self) -> bytes:
        return domain_message(SHARE_LABEL, self._aad(), self.ciphertext)

    @classmethod
    def seal(
        cls, session: bytes, share: DealerShare, recipient_box_key: bytes, dealer_key: SigningKey
    ) -> SealedShare:
        draft = cls(session, share.epoch, share.dealer, share.recipient, b"", b"")
        ct = box_seal(recipient_box_key, encode_dkg_message(share), aad=draft._aad(),
                      info=SHARE_LABEL.encode())  # fmt: skip
        unsigned = cls(session, share.epoch, share.dealer, share.recipient, ct, b"")
        return cls(session, share.epoch, share.dealer, share.recipient, ct,
                   dealer_key.sign(unsigned._signed()))  # fmt: skip

    def open(self, box: BoxSecretKey, dealer_identity: bytes) -> DealerShare:
        """The share if the dealer signed it and it opens under ``box``; else ``DkgError``."""
        try:
            VerifyKey(dealer_identity).verify(self.signature, self._signed())
            plain = box_open(box, self.ciphertext, aad=self._aad(), info=SHARE_LABEL.encode())
        except CryptoError as exc:
            raise DkgError(f"sealed share from dealer {self.dealer} does not open") from exc
        msg = decode_dkg_message(plain)
        if not isinstance(msg, DealerShare) or (msg.epoch, msg.dealer, msg.recipient) != (
            self.epoch, self.dealer, self.recipient):  # fmt: skip
            raise DkgError(f"sealed share from dealer {self.dealer} is for another slot")
        return msg

    def to_json(self) -> dict[str, Any]:
        return {"session": b64e(self.session), "epoch": self.epoch, "dealer": self.dealer,
                "recipient": self.recipient, "ciphertext": b64e(self.ciphertext),
                "signature": b64e(self.signature)}  # fmt: skip

    @classmethod
    def from_json(cls, obj: Any) -> SealedShare:
        if not isinstance(obj, dict):
            raise DkgError("dkg transport: sealed share must be an object")
        return cls(_bytes(obj, "session", SESSION_BYTES), _int(obj, "epoch"), _int(obj, "dealer"),
                   _int(obj, "recipient"), _bytes(obj, "ciphertext"),
                   _bytes(obj, "signature", 64))  # fmt: skip

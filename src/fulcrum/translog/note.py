"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <key name> <base64(4-byte key ID || signature)>``. Opening a note follows the spec and the
rules of golang.org/x/mod/sumdb/note: signatures from unknown keys are kept as unverified, a
signature from a known key that does not verify rejects the whole note, duplicates are reported
once, at most 100 signature lines are read, and at least one known signature is required.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.signing import SigningKey, VerifyKey
from fulcrum.hazmat.symmetric import sha256
from fulcrum.translog.errors import (
    AmbiguousKeyError,
    InvalidNoteSignatureError,
    KeyFormatError,
    MalformedNoteError,
    UnverifiedNoteError,
)

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100
_SIG_PREFIX = "\u2014 ".encode()
_SPLIT = b"\n\n"


def is_valid_key_name(name: str) -> bool:
    """Non-empty, no Unicode space, no '+'."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || alg || public key)[:4] as a big-endian integer."""
    return int.from_bytes(sha256(name.encode() + b"\n" + bytes([alg]) + public_key)[:4], "big")


def std_b64decode(text: str) -> bytes:
    """Standard base64 with padding, strictly (as Go's base64.StdEncoding)."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise ValueError("invalid base64") from exc


def std_b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Verifier(Protocol):
    """Checks one kind of note signature for one key."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


class Signer(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, text: bytes) -> bytes: ...


@dataclass(frozen=True)
class NoteVerifier:
    """An Ed25519 (type 0x01) note verifier key."""

    name: str
    public_key: VerifyKey

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyFormatError("invalid key name")

    @property
    def key_id(self) -> int:
        return key_id(self.name, ALG_ED25519, self.public_key.raw)

    @property
    def vkey(self) -> str:
        """``name+keyid+base64(0x01 || public key)``."""
        raw = bytes([ALG_ED25519]) + self.public_key.raw
        return f"{self.name}+{self.key_id:08x}+{std_b64encode(raw)}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        return self.public_key.is_valid(signature, text)


def parse_vkey(vkey: str) -> tuple[str, int, int, bytes]:
    """Split a verifier key string into (name, key ID, algorithm, public key), checking the ID."""
    name, _, rest = vkey.partition("+")
    hex_id, _, key64 = rest.partition("+")
    try:
        key = std_b64decode(key64)
    except ValueError as exc:
        raise KeyFormatError("malformed verifier key") from exc
    valid_hex = len(hex_id) == 8 and all(c in "0123456789abcdef" for c in hex_id)
    if not valid_hex or not is_valid_key_name(name) or len(key) != 33:
        raise KeyFormatError("malformed verifier key")
    if int(hex_id, 16) != key_id(name, key[0], key[1:]):
        raise KeyFormatError("verifier key ID does not match the key")
    return name, int(hex_id, 16), key[0], key[1:]


def verifier_from_vkey(vkey: str) -> NoteVerifier:
    """Parse an Ed25519 (type 0x01) verifier key string."""
    name, _, alg, pub = parse_vkey(vkey)
    if alg != ALG_ED25519:
        raise KeyFormatError("verifier key is not an Ed25519 note key")
    return NoteVerifier(name, VerifyKey(pub))


@dataclass(frozen=True, repr=False)
class NoteSigner:
    """An Ed25519 (type 0x01) note signer. Its repr never shows the key."""

    name: str
    signing_key: SigningKey

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyFormatError("invalid key name")

    def __repr__(self) -> str:
        return f"NoteSigner({self.name}+{self.key_id:08x})"

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        return cls(name, SigningKey.generate())

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+name+keyid+base64(0x01 || seed)`` (the Go note package format)."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise KeyFormatError("malformed signer key")
        try:
            raw = std_b64decode(parts[4])
        except ValueError as exc:
            raise KeyFormatError("malformed signer key") from exc
        if len(raw) != 33 or raw[0] != ALG_ED25519 or len(parts[3]) != 8:
            raise KeyFormatError("malformed signer key")
        signer = cls(parts[2], SigningKey(raw[1:]))
        if f"{signer.key_id:08x}" != parts[3]:
            raise KeyFormatError("signer key ID does not match the key")
        return signer

    @property
    def key_id(self) -> int:
        return key_id(self.name, ALG_ED25519, self.signing_key.public_key().raw)

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.signing_key.public_key())

    def sign(self, text: bytes) -> bytes:
        return self.signing_key.sign(text)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and base64(key ID || signature)."""

    name: str
    key_id: int
    base64: str

    @property
    def signature(self) -> bytes:
        """The signature bytes without the 4-byte key ID."""
        return std_b64decode(self.base64)[4:]

    def line(self) -> str:
        return f"\u2014 {self.name} {self.base64}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the verified signatures and the ones from unknown keys."""

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...] = ()


def _lookup(known: Sequence[Verifier], name: str, kid: int) -> Verifier | None:
    found = [v for v in known if v.name == name and v.key_id == kid]
    if len(found) > 1:
        raise AmbiguousKeyError(name, kid)
    return found[0] if found else None


def _check_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedNoteError from exc
    if any(c < " " and c != "\n" for c in text):
        raise MalformedNoteError
    return text


def open_note(msg: bytes, known: Iterable[Verifier]) -> Note:
    """Parse a signed note and verify its signatures against ``known`` verifiers.

    Raises ``MalformedNoteError``, ``AmbiguousKeyError``, ``InvalidNoteSignatureError`` or
    ``UnverifiedNoteError`` (which carries the unverified signatures).
    """
    verifiers = list(known)
    _check_text(msg)
    split = msg.rfind(_SPLIT)
    if split < 0:
        raise MalformedNoteError
    text_bytes, sigs = msg[: split + 1], msg[split + 2 :]
    if not sigs or not sigs.endswith(b"\n"):
        raise MalformedNoteError
    text = text_bytes.decode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, int]] = set()
    seen_unverified: set[bytes] = set()
    for count, line in enumerate(sigs[:-1].split(b"\n"), start=1):
        if not line.startswith(_SIG_PREFIX):
            raise MalformedNoteError
        body = line[len(_SIG_PREFIX) :].decode("utf-8")
        name, _, b64 = body.partition(" ")
        try:
            raw = std_b64decode(b64)
        except ValueError as exc:
            raise MalformedNoteError from exc
        if not is_valid_key_name(name) or not b64 or len(raw) < 5:
            raise MalformedNoteError
        if count > MAX_SIGNATURES:
            raise MalformedNoteError
        kid = int.from_bytes(raw[:4], "big")
        sig = NoteSignature(name, kid, b64)
        verifier = _lookup(verifiers, name, kid)
        if verifier is None:
            if line not in seen_unverified:
                seen_unverified.add(line)
                unverified.append(sig)
            continue
        if (name, kid) in seen:
            continue
        seen.add((name, kid))
        if not verify_with(verifier, text_bytes, raw[4:]):
            raise InvalidNoteSignatureError(name, kid)
        verified.append(sig)
    if not verified:
        raise UnverifiedNoteError(tuple(unverified))
    return Note(text, tuple(verified), tuple(unverified))


def signature_for(signer: Signer, text: str) -> NoteSignature:
    """Sign ``text`` (which must be valid note text) and return the signature line."""
    if not is_valid_key_name(signer.name):
        raise KeyFormatError("invalid signer name")
    sig = signer.sign(text.encode("utf-8"))
    b64 = std_b64encode(signer.key_id.to_bytes(4, "big") + sig)
    return NoteSignature(signer.name, signer.key_id, b64)


def sign_note(
    text: str, signers: Sequence[Signer], existing: Sequence[NoteSignature] = ()
) -> bytes:
    """Sign note text; ``existing`` signatures from other keys are appended after the new ones."""
    if not text.endswith("\n"):
        raise MalformedNoteError
    _check_text(text.encode("utf-8"))
    lines = [signature_for(s, text) for s in signers]
    have = {(s.name, s.key_id) for s in lines}
    for old in existing:
        if (old.name, old.key_id) in have:
            continue
        try:
            raw = std_b64decode(old.base64)
        except ValueError as exc:
            raise MalformedNoteError from exc
        if not is_valid_key_name(old.name) or len(raw) < 5:
            raise MalformedNoteError
        if int.from_bytes(raw[:4], "big") != old.key_id:
            raise MalformedNoteError
        lines.append(old)
    if not lines:
        raise MalformedNoteError
    return (text + "\n" + "".join(s.line() for s in lines)).encode("utf-8")


def verify_with(verifier: Verifier, text: bytes, signature: bytes) -> bool:
    """Call a verifier, treating any crypto failure as a bad signature."""
    try:
        return verifier.verify(text, signature)
    except CryptoError:
        return False

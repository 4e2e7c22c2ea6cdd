"""Ed25519 signing keys for servers, logs, witnesses, trustees, judges and attestations."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fulcrum.hazmat.errors import CryptoError


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key, kept as its 32-byte seed."""

    seed: bytes

    @classmethod
    def generate(cls) -> SigningKey:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        raw = Ed25519PrivateKey.generate().private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        return cls(raw)

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise CryptoError

    def __repr__(self) -> str:  # never print key material
        return f"SigningKey(public={self.public_key().raw.hex()[:16]}...)"

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def public_key(self) -> VerifyKey:
        pub = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return VerifyKey(pub.public_bytes(Encoding.Raw, PublicFormat.Raw))


@dataclass(frozen=True)
class VerifyKey:
    """An Ed25519 public key (32 raw bytes)."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise CryptoError

    def verify(self, signature: bytes, message: bytes) -> None:
        """Raise ``CryptoError`` unless the signature is valid."""
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError) as exc:
            raise CryptoError from exc

    def is_valid(self, signature: bytes, message: bytes) -> bool:
        try:
            self.verify(signature, message)
        except CryptoError:
            return False
        return True

"""A device's long-term Olm account: identity keys, one-time keys, fallback key, signatures."""

from __future__ import annotations

from dataclasses import dataclass

import vodozemac

from fulcrum.e2ee.errors import DecryptionFailed


@dataclass(frozen=True)
class OlmCiphertext:
    """An Olm message: type 0 is a pre-key message (starts a session), 1 a normal one."""

    type: int
    body: bytes


class DeviceAccount:
    """Wraps ``vodozemac.Account``. Pickles only under a 32-byte key the caller manages."""

    def __init__(self, account: vodozemac.Account | None = None) -> None:
        self._account = account if account is not None else vodozemac.Account()

    def __repr__(self) -> str:
        return f"DeviceAccount(identity_key={self.identity_key[:8]}...)"

    @property
    def identity_key(self) -> str:
        """Curve25519 identity key, vodozemac base64."""
        return str(self._account.curve25519_key.to_base64())

    @property
    def signing_key(self) -> str:
        """Ed25519 signing key, vodozemac base64."""
        return str(self._account.ed25519_key.to_base64())

    def sign(self, message: bytes) -> str:
        return str(self._account.sign(message).to_base64())

    def new_one_time_keys(self, count: int) -> dict[str, str]:
        """Generate ``count`` one-time keys and return those not yet published."""
        self._account.generate_one_time_keys(count)
        return {kid: key.to_base64() for kid, key in self._account.one_time_keys.items()}

    def new_fallback_key(self) -> dict[str, str]:
        # present at runtime in vodozemac 0.10, missing from its type stubs
        self._account.generate_fallback_key()  # type: ignore[attr-defined]
        keys = self._account.fallback_key  # type: ignore[attr-defined]
        return {str(kid): str(key.to_base64()) for kid, key in keys.items()}

    def mark_keys_as_published(self) -> None:
        self._account.mark_keys_as_published()

    def outbound_session(self, peer_identity_key: str, one_time_key: str) -> vodozemac.Session:
        try:
            return self._account.create_outbound_session(
                vodozemac.Curve25519PublicKey.from_base64(peer_identity_key),
                vodozemac.Curve25519PublicKey.from_base64(one_time_key),
            )
        except Exception as exc:  # vodozemac raises several key/decode exception types
            raise DecryptionFailed("invalid peer keys") from exc

    def inbound_session(
        self, peer_identity_key: str, message: OlmCiphertext
    ) -> tuple[vodozemac.Session, bytes]:
        """Create a session from a pre-key message; consumes the one-time key it used."""
        if message.type != 0:
            raise DecryptionFailed("not a pre-key message")
        try:
            prekey = vodozemac.AnyOlmMessage.from_parts(0, message.body).to_pre_key()
            if prekey is None:
                raise DecryptionFailed("not a pre-key message")
            session, plaintext = self._account.create_inbound_session(
                vodozemac.Curve25519PublicKey.from_base64(peer_identity_key), prekey
            )
        except Exception as exc:
            raise DecryptionFailed("cannot start session") from exc
        return session, bytes(plaintext)

    def pickle(self, pickle_key: bytes) -> str:
        return str(self._account.pickle(pickle_key))

    @classmethod
    def from_pickle(cls, pickled: str, pickle_key: bytes) -> DeviceAccount:
        try:
            return cls(vodozemac.Account.from_pickle(pickled, pickle_key))
        except Exception as exc:
            raise DecryptionFailed("cannot unpickle account") from exc

"""Olm 1:1 device sessions, keyed by the peer device's identity key."""

from __future__ import annotations

import vodozemac

from fulcrum.e2ee.device import DeviceAccount, OlmCiphertext
from fulcrum.e2ee.errors import DecryptionFailed, MissingSession

MAX_SESSIONS_PER_PEER = 5


class OlmSessions:
    """All Olm sessions of one device. The newest session per peer is used for sending."""

    def __init__(self, account: DeviceAccount) -> None:
        self._account = account
        self._sessions: dict[str, list[vodozemac.Session]] = {}

    def has_session(self, peer_identity_key: str) -> bool:
        return bool(self._sessions.get(peer_identity_key))

    def start(self, peer_identity_key: str, one_time_key: str) -> None:
        session = self._account.outbound_session(peer_identity_key, one_time_key)
        self._remember(peer_identity_key, session)

    def encrypt(self, peer_identity_key: str, plaintext: bytes) -> OlmCiphertext:
        sessions = self._sessions.get(peer_identity_key)
        if not sessions:
            raise MissingSession("no Olm session with this device; claim a one-time key first")
        message_type, body = sessions[0].encrypt(plaintext).to_parts()
        return OlmCiphertext(int(message_type), bytes(body))

    def decrypt(self, peer_identity_key: str, message: OlmCiphertext) -> bytes:
        if message.type not in (0, 1):
            raise DecryptionFailed("unknown Olm message type")
        try:
            any_message = vodozemac.AnyOlmMessage.from_parts(message.type, message.body)
        except Exception as exc:
            raise DecryptionFailed("malformed Olm message") from exc
        prekey = any_message.to_pre_key() if message.type == 0 else None
        for session in self._sessions.get(peer_identity_key, []):
            if prekey is not None and not session.session_matches(prekey):
                continue
            try:
                plaintext = bytes(session.decrypt(any_message))
            except Exception:  # noqa: S112 - try the peer's other sessions, then fail closed
                continue
            self._promote(peer_identity_key, session)
            return plaintext
        if message.type == 0:
            session, plaintext = self._account.inbound_session(peer_identity_key, message)
            self._remember(peer_identity_key, session)
            return plaintext
        raise DecryptionFailed("no session could decrypt this message")

    def _remember(self, peer: str, session: vodozemac.Session) -> None:
        sessions = self._sessions.setdefault(peer, [])
        sessions.insert(0, session)
        del sessions[MAX_SESSIONS_PER_PEER:]

    def _promote(self, peer: str, session: vodozemac.Session) -> None:
        sessions = self._sessions[peer]
        if sessions[0] is session:
            return
        sessions.remove(session)
        sessions.insert(0, session)

    def pickle(self, pickle_key: bytes) -> dict[str, list[str]]:
        return {
            peer: [str(s.pickle(pickle_key)) for s in sessions]
            for peer, sessions in self._sessions.items()
        }

    @classmethod
    def from_pickle(
        cls, account: DeviceAccount, pickled: dict[str, list[str]], pickle_key: bytes
    ) -> OlmSessions:
        sessions = cls(account)
        try:
            for peer, items in pickled.items():
                sessions._sessions[peer] = [
                    vodozemac.Session.from_pickle(p, pickle_key) for p in items
                ]
        except Exception as exc:
            raise DecryptionFailed("cannot unpickle sessions") from exc
        return sessions

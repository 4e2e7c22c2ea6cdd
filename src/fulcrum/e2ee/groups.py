"""Megolm group sessions with the gaps vodozemac leaves to the application closed:
rotation on membership change / message count / age, and replay de-duplication."""

from __future__ import annotations

from dataclasses import dataclass

import vodozemac

from fulcrum.e2ee.errors import DecryptionFailed, MissingSession, ReplayedMessage


@dataclass(frozen=True)
class RotationPolicy:
    max_messages: int = 100
    max_age_seconds: int = 7 * 24 * 3600


@dataclass(frozen=True)
class GroupSessionKey:
    """What a sender shares with each member device over Olm."""

    group_id: str
    session_id: str
    session_key: str  # vodozemac base64 export; secret


class GroupSender:
    """The outbound Megolm session of one device in one group."""

    def __init__(
        self,
        group_id: str,
        membership_epoch: int,
        created_at: float,
        session: vodozemac.GroupSession | None = None,
        sent: int = 0,
    ) -> None:
        self.group_id = group_id
        self.membership_epoch = membership_epoch
        self.created_at = created_at
        self.sent = sent
        self._session = session if session is not None else vodozemac.GroupSession()

    def needs_rotation(self, membership_epoch: int, now: float, policy: RotationPolicy) -> bool:
        return (
            membership_epoch != self.membership_epoch
            or self.sent >= policy.max_messages
            or now - self.created_at >= policy.max_age_seconds
        )

    @property
    def session_id(self) -> str:
        return str(self._session.session_id)

    def session_key(self) -> GroupSessionKey:
        """The key from the current index on (share it before encrypting the next message)."""
        return GroupSessionKey(
            self.group_id, self.session_id, self._session.session_key.to_base64()
        )

    def encrypt(self, plaintext: bytes) -> bytes:
        self.sent += 1
        return bytes(self._session.encrypt(plaintext).to_bytes())

    def pickle(self, pickle_key: bytes) -> dict[str, object]:
        return {
            "group_id": self.group_id,
            "membership_epoch": self.membership_epoch,
            "created_at": self.created_at,
            "sent": self.sent,
            "session": str(self._session.pickle(pickle_key)),
        }

    @classmethod
    def from_pickle(cls, data: dict[str, object], pickle_key: bytes) -> GroupSender:
        try:
            session = vodozemac.GroupSession.from_pickle(str(data["session"]), pickle_key)
            return cls(
                str(data["group_id"]),
                int(str(data["membership_epoch"])),
                float(str(data["created_at"])),
                session,
                int(str(data["sent"])),
            )
        except Exception as exc:
            raise DecryptionFailed("cannot unpickle group session") from exc


class GroupReceiver:
    """Inbound Megolm sessions of one device, each bound to the device that shared it."""

    def __init__(self) -> None:
        self._sessions: dict[str, tuple[str, vodozemac.InboundGroupSession]] = {}
        self._seen: set[tuple[str, int]] = set()

    def add(self, sender_identity_key: str, key: GroupSessionKey) -> None:
        """Register a session key received over Olm from ``sender_identity_key``."""
        try:
            inbound = vodozemac.InboundGroupSession(vodozemac.SessionKey(key.session_key))
        except Exception as exc:
            raise DecryptionFailed("invalid group session key") from exc
        if inbound.session_id != key.session_id:
            raise DecryptionFailed("session id does not match the key")
        known = self._sessions.get(key.session_id)
        if known is not None and known[0] != sender_identity_key:
            raise DecryptionFailed("session already bound to another device")
        if known is None or inbound.first_known_index < known[1].first_known_index:
            self._sessions[key.session_id] = (sender_identity_key, inbound)

    def decrypt(self, sender_identity_key: str, ciphertext: bytes) -> tuple[str, int, bytes]:
        """Return (session id, message index, plaintext); refuse replays and foreign sessions."""
        try:
            message = vodozemac.MegolmMessage.from_bytes(ciphertext)
        except Exception as exc:
            raise DecryptionFailed("malformed group message") from exc
        for session_id, (owner, inbound) in self._sessions.items():
            if owner != sender_identity_key:
                continue
            try:
                decrypted = inbound.decrypt(message)
            except Exception:  # noqa: S112 - not this session; try the sender's others
                continue
            index = int(decrypted.message_index)
            if (session_id, index) in self._seen:
                raise ReplayedMessage("group message index already seen")
            self._seen.add((session_id, index))
            return session_id, index, bytes(decrypted.plaintext)
        raise MissingSession("no group session from this sender can decrypt the message")

    def pickle(self, pickle_key: bytes) -> dict[str, object]:
        return {
            "sessions": {
                sid: [owner, str(inbound.pickle(pickle_key))]
                for sid, (owner, inbound) in self._sessions.items()
            },
            "seen": sorted([sid, idx] for sid, idx in self._seen),
        }

    @classmethod
    def from_pickle(cls, data: dict[str, object], pickle_key: bytes) -> GroupReceiver:
        receiver = cls()
        try:
            sessions = data["sessions"]
            assert isinstance(sessions, dict)
            for sid, (owner, pickled) in sessions.items():
                receiver._sessions[sid] = (
                    owner,
                    vodozemac.InboundGroupSession.from_pickle(pickled, pickle_key),
                )
            seen = data["seen"]
            assert isinstance(seen, list)
            receiver._seen = {(str(s), int(i)) for s, i in seen}
        except Exception as exc:
            raise DecryptionFailed("cannot unpickle group receiver") from exc
        return receiver

"""The platform's franking secrets: monthly tag keys (in the database, wrapped under a key in the
data directory) and the Ed25519 report-attestation key (in the data directory).

Key rotation and destruction are recorded in ``franking_key_events`` and handed to each of
``TagKeyVault.sinks`` in the same transaction: ``record_key_event`` (an operational log line) and,
once installed, ``transparency.KeyEventToLog`` (a ``FrankingKeyRotated``/``FrankingKeyDestroyed``
log entry). A rotation record carries the key's commitment, never the key.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fulcrum.encoding import b64e, domain_message
from fulcrum.franking import KeyDestroyed, KeyRotated, TagKey, TagKeyring, kid_for
from fulcrum.franking._fields import to_ms
from fulcrum.franking.tagkeys import kid_starts_at
from fulcrum.hazmat.signing import SigningKey
from fulcrum.hazmat.symmetric import aes256gcm_open, aes256gcm_seal, random_bytes, sha256
from fulcrum.store.franking import FrankingKeyEvent, FrankingTagKey

LOG = logging.getLogger("fulcrum.server.franking")
KEK_FILE = "franking-kek"
ATTESTATION_KEY_FILE = "report-attestation.key"
_WRAP_LABEL = b"franking-tag-key-v1:"
KEY_COMMIT_LABEL = "fulcrum/franking/tag-key-commitment/v1"

Clock = Callable[[], datetime]
KeyEventSink = Callable[[Session, dict[str, Any]], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


def _secret_file(path: Path, size: int) -> bytes:
    """Read a secret file, creating it (mode 0600) with fresh random bytes if absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        data = path.read_bytes()
        if len(data) != size:
            raise RuntimeError(f"{path} is not a {size}-byte key file") from None
        return data
    data = random_bytes(size)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return data


def key_commitment(kid: str, secret: bytes) -> bytes:
    """A binding commitment to a tag key, for the log (the key is 256-bit random: it hides it)."""
    return sha256(domain_message(KEY_COMMIT_LABEL, kid.encode("ascii"), secret))


def attestation_signing_key(data_dir: Path) -> SigningKey:
    """The platform's report-attestation key, persisted in the data directory."""
    return SigningKey(_secret_file(data_dir / ATTESTATION_KEY_FILE, 32))


def record_key_event(session: Session, record: dict[str, Any]) -> None:
    """The operational log line for a key event (no key material is in ``record``).

    The transparency-log entry is appended by ``transparency.KeyEventToLog``, which ``install``
    adds to ``TagKeyVault.sinks`` next to this one.
    """
    LOG.info("franking key event", extra={"event": record["event"], "kid": record["kid"]})


@dataclass
class TagKeyVault:
    """The current ``TagKeyring``, cached, backed by ``franking_tag_keys``."""

    kek: bytes
    sinks: list[KeyEventSink] = field(default_factory=lambda: [record_key_event])
    _keyring: TagKeyring = field(default_factory=TagKeyring)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __repr__(self) -> str:  # never print keys
        return f"TagKeyVault(kids={list(self._keyring.kids)!r})"

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> TagKeyVault:
        return cls(kek=_secret_file(data_dir / KEK_FILE, 32))

    def _wrap(self, kid: str, secret: bytes) -> bytes:
        nonce = random_bytes(12)
        return nonce + aes256gcm_seal(self.kek, nonce, secret, _WRAP_LABEL + kid.encode())

    def _unwrap(self, kid: str, blob: bytes) -> bytes:
        return aes256gcm_open(self.kek, blob[:12], blob[12:], _WRAP_LABEL + kid.encode())

    def _fresh(self, keyring: TagKeyring, now: datetime) -> bool:
        current = kid_for(now)
        return keyring.key(current) is not None and all(now < k.expires_at for k in keyring.keys)

    def keyring(self, session: Session, now: datetime) -> TagKeyring:
        """The live keys at ``now``: makes this month's key and destroys expired ones if due."""
        with self._lock:
            if self._fresh(self._keyring, now):
                return self._keyring
            rows = session.scalars(
                select(FrankingTagKey).where(FrankingTagKey.wrapped_secret.is_not(None))
            ).all()
            loaded = TagKeyring(
                tuple(
                    TagKey(
                        r.kid, self._unwrap(r.kid, r.wrapped_secret or b""), _from_ms(r.created_at)
                    )
                    for r in sorted(rows, key=lambda r: r.kid)
                )
            )
            advanced, events = loaded.advance(now)
            for event in events:
                self._persist(session, advanced, event)
            session.flush()
            self._keyring = advanced
            return advanced

    def _persist(
        self, session: Session, keyring: TagKeyring, event: KeyRotated | KeyDestroyed
    ) -> None:
        at = to_ms(event.at)
        record = event.as_record()
        if isinstance(event, KeyRotated):
            key = keyring.key(event.kid)
            assert key is not None
            session.add(
                FrankingTagKey(
                    kid=key.kid,
                    wrapped_secret=self._wrap(key.kid, key.secret),
                    created_at=at,
                    destroyed_at=None,
                )
            )
            record["key_commitment"] = b64e(key_commitment(key.kid, key.secret))
            record["valid_from"] = to_ms(kid_starts_at(key.kid))
        else:
            session.execute(
                update(FrankingTagKey)
                .where(FrankingTagKey.kid == event.kid)
                .values(wrapped_secret=None, destroyed_at=at)
            )
        session.add(FrankingKeyEvent(kid=event.kid, event=record["event"], at=at, record=record))
        for sink in self.sinks:
            sink(session, record)

    def forget_cache(self) -> None:
        with self._lock:
            self._keyring = TagKeyring()


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)

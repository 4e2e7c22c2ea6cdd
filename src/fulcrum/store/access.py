"""Warrant tables (feature ``access``, migration 0006): operators, warrants, their targets while
retention is active, every logged step, retained messages and attachments, decryption requests
and notification extensions.

Nothing here holds plaintext or keys. The warrant opening (signed warrant + commitment salt) is
stored sealed under the platform's opening key (``server/access/sealing.py``); ``access_targets``
names the accounts whose messages are being retained, because the relay must know them to retain
anything (the log shows only a salted commitment). Retained rows are copies of what the relay
already stores (ciphertexts, envelopes, escrow fields), kept after the relay's own rows are
purged, and only for targets of active warrants or within the retrospective window.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fulcrum.store.models import Base, BigId


class AccessOperator(Base):
    """A judge, authority or platform operator: bearer token stored as SHA-256 only."""

    __tablename__ = "access_operators"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # judge / authority / operator
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class AccessWarrant(Base):
    __tablename__ = "access_warrants"

    warrant_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    sealed_opening: Mapped[bytes] = mapped_column(LargeBinary)
    submitted_by: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)  # unix seconds
    activated_at: Mapped[int | None] = mapped_column(BigInteger)
    window_start: Mapped[int] = mapped_column(BigInteger)
    window_end: Mapped[int] = mapped_column(BigInteger)
    unsealed_at: Mapped[int | None] = mapped_column(BigInteger)


class AccessTarget(Base):
    """An account whose messages are retained from ``active_from`` to ``active_until`` (ms)."""

    __tablename__ = "access_targets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    warrant_id: Mapped[str] = mapped_column(String(256), index=True)
    account: Mapped[str] = mapped_column(String(32), index=True)
    active_from: Mapped[int] = mapped_column(BigInteger)
    active_until: Mapped[int] = mapped_column(BigInteger)


class AccessStep(Base):
    """One logged step of a warrant: its entry type and log index."""

    __tablename__ = "access_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    warrant_id: Mapped[str] = mapped_column(String(256), index=True)
    step: Mapped[str] = mapped_column(String(32))
    log_index: Mapped[int] = mapped_column(BigInteger)
    time: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(String(256))


class AccessRetained(Base):
    """A retained message: ciphertext, envelope, escrow field and the devices it went to."""

    __tablename__ = "access_retained"
    __table_args__ = (UniqueConstraint("sender_account", "msg_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    msg_id: Mapped[str] = mapped_column(String(22))
    sender_account: Mapped[str] = mapped_column(String(32))
    sender_device: Mapped[str] = mapped_column(String(64))
    conv: Mapped[str] = mapped_column(String(90))
    content_type: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(48))
    membership_epoch: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    escrow: Mapped[bytes | None] = mapped_column(LargeBinary)
    escrow_meta: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"epoch", "client_ts"} (clear)
    recipients: Mapped[list[str]] = mapped_column(JSON)  # sorted "account/device"
    attachments: Mapped[list[str]] = mapped_column(JSON)
    env: Mapped[dict[str, Any]] = mapped_column(JSON)
    server_ts: Mapped[int] = mapped_column(BigInteger, index=True)
    reason: Mapped[str] = mapped_column(String(16))  # "warrant" or "window"


class AccessRetainedAttachment(Base):
    __tablename__ = "access_retained_attachments"

    attachment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)  # ciphertext
    retained_at: Mapped[int] = mapped_column(BigInteger)


class AccessRequest(Base):
    """A logged decryption request: which retained messages, and each trustee's partials."""

    __tablename__ = "access_requests"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    warrant_id: Mapped[str] = mapped_column(String(256), index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    retained_ids: Mapped[list[int]] = mapped_column(JSON)
    log_index: Mapped[int] = mapped_column(BigInteger)
    partials: Mapped[dict[str, str]] = mapped_column(JSON)  # trustee -> base64url partial
    completed_at: Mapped[int | None] = mapped_column(BigInteger)
    decrypted: Mapped[int] = mapped_column(Integer, default=0)


class AccessExtension(Base):
    """A judge-signed notification extension and the index of its ``NotificationDelayed``."""

    __tablename__ = "access_extensions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    warrant_id: Mapped[str] = mapped_column(String(256), index=True)
    extension: Mapped[bytes] = mapped_column(LargeBinary)
    log_index: Mapped[int] = mapped_column(BigInteger)

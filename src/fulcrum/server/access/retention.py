"""Retention for lawful access: what the relay keeps beyond delivery, and for how long.

Prospective by default: from the moment a warrant reaches its approval quorum (activation) until
its window ends, ``RetentionHook.after_accept`` copies every message to or from one of its targets
into ``access_retained`` (ciphertext body, clear envelope, escrow field and its clear
``{"epoch", "client_ts"}``, the recipient devices, the attachment ciphertexts). The relay's own
message rows may be purged after delivery; these copies are what a warrant can later request.

A policy switch (``ServerSettings.access_retrospective_seconds`` > 0) enables a bounded
retrospective window: the relay then keeps the retention record of *every* message for that many
seconds, and ``purge_retained`` deletes older ones that no active warrant needs. With the switch
off and no active warrant, nothing is kept beyond delivery.

``before_accept`` checks the clear ``client_ts`` against the server clock (typed 400
``client_clock_skew``). The value goes into ctx and the body's AAD, which the recipients
authenticate and compare with this clear copy, so a sender that lies only makes its own message
undisplayable; a message that recipients display always has a recoverable context.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fulcrum.server.hooks import SendContext, SendRefused
from fulcrum.store import AccountDirectory, AttachmentStore, Database
from fulcrum.store.access import AccessRetained, AccessRetainedAttachment, AccessTarget
from fulcrum.wire.api import SendReceipt

ESCROW_EXTENSION = "escrow"
TARGET_CACHE_SECONDS = 5.0  # other workers see a newly activated warrant within this time


def escrow_meta(extensions: dict[str, Any]) -> dict[str, int] | None:
    meta = extensions.get(ESCROW_EXTENSION)
    if not isinstance(meta, dict) or set(meta) != {"epoch", "client_ts"}:
        return None
    values = meta["epoch"], meta["client_ts"]
    if not all(type(v) is int and 0 <= v < 2**53 for v in values):
        return None
    return {"epoch": int(meta["epoch"]), "client_ts": int(meta["client_ts"])}


class RetentionHook:
    """The relay-side half of lawful access (a ``SendHook``)."""

    def __init__(self, db: Database, *, skew_seconds: int, retrospective_seconds: int) -> None:
        self.db = db
        self.skew_ms = skew_seconds * 1000
        self.retrospective_seconds = retrospective_seconds
        self._targets: list[tuple[str, int, int]] = []
        self._loaded = -1.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._loaded = -1.0

    def _active(self, session: Session, at_ms: int) -> set[str]:
        with self._lock:
            stale = time.monotonic() - self._loaded > TARGET_CACHE_SECONDS or self._loaded < 0
        if stale:
            rows = session.execute(
                select(AccessTarget.account, AccessTarget.active_from, AccessTarget.active_until)
            ).all()
            with self._lock:
                self._targets = [(a, f, u) for a, f, u in rows]
                self._loaded = time.monotonic()
        with self._lock:
            return {a for a, f, u in self._targets if f <= at_ms <= u}

    def before_accept(self, ctx: SendContext) -> None:
        if ctx.envelope.kind != "message" or ESCROW_EXTENSION not in ctx.envelope.extensions:
            return
        meta = escrow_meta(ctx.envelope.extensions)
        if meta is None:
            raise SendRefused(
                "invalid_escrow_extension", 'extensions.escrow must be {"epoch", "client_ts"}', 400
            )
        if abs(meta["client_ts"] - ctx.server_ts) > self.skew_ms:
            raise SendRefused(
                "client_clock_skew",
                f"client_ts is more than {self.skew_ms // 1000} s from the server's clock",
                400,
            )

    def after_accept(self, ctx: SendContext, receipt: SendReceipt) -> SendReceipt:
        if ctx.envelope.kind != "message":
            return receipt
        session = ctx.session
        if ctx.group is not None:
            devices = AccountDirectory(session).devices_of(list(ctx.group.members))
            recipients = sorted(f"{d.account}/{d.id}" for d in devices if d.id != ctx.sender.id)
        else:
            recipients = list(ctx.recipient_devices)
        parties = {ctx.sender.account, *(r.partition("/")[0] for r in recipients)}
        reason = None
        if parties & self._active(session, ctx.server_ts):
            reason = "warrant"
        elif self.retrospective_seconds > 0:
            reason = "window"
        if reason is None:
            return receipt
        env = ctx.envelope
        extensions = {k: v for k, v in env.extensions.items() if k != "vouchers"}
        session.add(
            AccessRetained(
                msg_id=env.msg_id,
                sender_account=ctx.sender.account,
                sender_device=ctx.sender.id,
                conv=env.conv,
                content_type=env.content_type,
                group_id=None if ctx.group is None else ctx.group.id,
                membership_epoch=None if env.group is None else env.group.membership_epoch,
                body=_b64(env.body),
                escrow=None if env.escrow is None else _b64(env.escrow),
                escrow_meta=escrow_meta(env.extensions) or {},
                recipients=recipients,
                attachments=list(env.attachments),
                env={"server": ctx.env, "extensions": extensions},
                server_ts=ctx.server_ts,
                reason=reason,
            )
        )
        store = AttachmentStore(session)
        for att in env.attachments:
            if session.get(AccessRetainedAttachment, att) is None:
                session.add(
                    AccessRetainedAttachment(
                        attachment_id=att, blob=store.blob(att), retained_at=ctx.server_ts
                    )
                )
        return receipt


def _b64(text: str) -> bytes:
    from fulcrum.encoding import b64d

    return b64d(text) if text else b""


def purge_retained(db: Database, *, now_ms: int, retrospective_seconds: int) -> int:
    """Delete window-only retention records older than the retrospective window (all of them
    when the switch is off) unless an active warrant's target is a party, and the retained
    attachment ciphertexts that no remaining record names; returns the count of records."""
    cutoff = now_ms - retrospective_seconds * 1000 if retrospective_seconds > 0 else now_ms + 1
    with db.write() as session:
        targets = session.execute(
            select(AccessTarget.account, AccessTarget.active_from, AccessTarget.active_until)
        ).all()
        rows = session.execute(
            select(
                AccessRetained.id,
                AccessRetained.sender_account,
                AccessRetained.recipients,
                AccessRetained.server_ts,
                AccessRetained.attachments,
            ).where(AccessRetained.reason == "window", AccessRetained.server_ts < cutoff)
        ).all()
        doomed = []
        attachments: set[str] = set()
        for rid, sender, recipients, ts, atts in rows:
            parties = {sender, *(str(r).partition("/")[0] for r in recipients)}
            if not any(a in parties and f - retrospective_seconds * 1000 <= ts <= u
                       for a, f, u in targets):  # fmt: skip
                doomed.append(rid)
                attachments.update(str(a) for a in atts or ())
        if doomed:
            session.execute(delete(AccessRetained).where(AccessRetained.id.in_(doomed)))
        if attachments:
            kept = {str(a) for (atts,) in session.execute(select(AccessRetained.attachments))
                    for a in atts or ()}  # fmt: skip
            gone = sorted(attachments - kept)
            if gone:
                session.execute(
                    delete(AccessRetainedAttachment).where(
                        AccessRetainedAttachment.attachment_id.in_(gone)
                    )
                )
        return len(doomed)

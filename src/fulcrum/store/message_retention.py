"""Routing metadata retention: the relay forgets delivered messages after a fixed period.

Once every recipient device has acked a message the relay already drops its ciphertexts
(``DeliveryQueue.ack``); what stays is routing metadata (who sent what to whom and when, the
server's envelope, the franking commitment and tag), kept for idempotent retries and for
verifying abuse reports, whose bundles clients keep for 30 days. ``purge_delivered`` deletes that
metadata, with the message's queue rows and attachment links, once it is older than the retention
period. A message that some device has not acked yet is never touched: nothing acknowledged is
lost and nothing undelivered is dropped. Copies kept for lawful access live in their own tables
(``fulcrum.server.access.retention``) under their own rules.
"""

from __future__ import annotations

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from fulcrum.store.messages import LINKS, MESSAGES, QUEUE

CHUNK = 500


def purge_delivered(session: Session, *, before_ms: int, limit: int = CHUNK) -> int:
    """Delete up to ``limit`` fully acked messages accepted before ``before_ms`` (oldest first),
    with their queue rows and attachment links; return how many were deleted."""
    pending = exists().where(QUEUE.c.message_id == MESSAGES.c.id, QUEUE.c.acked.is_(False))
    ids = [
        int(i)
        for i in session.scalars(
            select(MESSAGES.c.id)
            .where(MESSAGES.c.server_ts < before_ms, ~pending)
            .order_by(MESSAGES.c.id)
            .limit(limit)
        )
    ]
    if not ids:
        return 0
    session.execute(delete(QUEUE).where(QUEUE.c.message_id.in_(ids)))
    session.execute(delete(LINKS).where(LINKS.c.message_id.in_(ids)))
    session.execute(delete(MESSAGES).where(MESSAGES.c.id.in_(ids)))
    return len(ids)

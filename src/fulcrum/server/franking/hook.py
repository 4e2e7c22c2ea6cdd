"""The relay's franking hook: refuse unfranked messages and suspended senders, bind the
server's envelope, and tag (commitment, env) under the current monthly key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fulcrum.encoding import EncodingError, b64d, b64e
from fulcrum.franking import GroupAudience, ServerEnvelope, tag
from fulcrum.server.franking.keys import Clock, TagKeyVault
from fulcrum.server.hooks import SendContext, SendRefused
from fulcrum.store.franking import FrankingGroupEpoch
from fulcrum.store.models import Account
from fulcrum.wire.api import FrankingTag, SendReceipt
from fulcrum.wire.reports import FRANKING_ENV_KEY

COMMITMENT_BYTES = 32


def franking_envelope(ctx: SendContext) -> ServerEnvelope:
    """The franking ``env`` of a message, from what the relay decided about it."""
    env = ctx.env
    common: dict[str, Any] = {
        "sender": ctx.sender.account,
        "sender_device": ctx.sender.id,
        "conv": ctx.envelope.conv,
        "msg_id": b64d(ctx.envelope.msg_id, length=16),
        "server_ts": ctx.server_ts,
        "ct_sha256": bytes.fromhex(env["ct_sha256"]),
    }
    if ctx.group is not None and ctx.envelope.kind == "message":
        audience = GroupAudience.of(ctx.group.id, ctx.group.membership_epoch, ctx.group.members)
        return ServerEnvelope(**common, group=audience)
    accounts = tuple(sorted({label.split("/", 1)[0] for label in ctx.recipient_devices}))
    return ServerEnvelope(**common, recipients=accounts)


def _record_group_epoch(session: Session, group_id: str, epoch: int, members: list[str]) -> None:
    if session.get(FrankingGroupEpoch, (group_id, epoch)) is None:
        session.add(FrankingGroupEpoch(group_id=group_id, membership_epoch=epoch, members=members))
        session.flush()


@dataclass
class FrankingHook:
    vault: TagKeyVault
    clock: Clock

    def before_accept(self, ctx: SendContext) -> None:
        suspended = ctx.session.execute(  # one column, no ORM object: this runs on every send
            select(Account.suspended).where(Account.name == ctx.sender.account)
        ).scalar_one_or_none()
        if suspended is None or suspended:
            raise SendRefused("account_suspended", "account suspended", 403)
        if ctx.envelope.kind != "message":
            return
        try:
            raw = b64d(ctx.envelope.commitment or "")
        except EncodingError:
            raw = b""
        if len(raw) != COMMITMENT_BYTES:
            raise SendRefused(
                "franking_required", "a message needs a 32-byte franking commitment", 400
            )
        ctx.env[FRANKING_ENV_KEY] = franking_envelope(ctx).to_json()
        if ctx.group is not None:
            _record_group_epoch(
                ctx.session, ctx.group.id, ctx.group.membership_epoch, list(ctx.group.members)
            )

    def after_accept(self, ctx: SendContext, receipt: SendReceipt) -> SendReceipt:
        if ctx.envelope.kind != "message":
            return receipt
        env = ServerEnvelope.from_json(ctx.env[FRANKING_ENV_KEY])
        commitment = b64d(ctx.envelope.commitment or "", length=COMMITMENT_BYTES)
        now = self.clock()
        keyring = self.vault.keyring(ctx.session, now)
        kid, value = tag(keyring, commitment, env, now)
        return receipt.model_copy(update={"franking": FrankingTag(kid=kid, tag=b64e(value))})

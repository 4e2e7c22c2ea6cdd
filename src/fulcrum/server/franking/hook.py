"""The relay's franking hook: refuse unfranked messages and suspended senders, bind the
server's envelope, and tag (commitment, env) under the current monthly key."""

from __future__ import annotations

from collections.abc import Sequence
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
_SCRATCH = "franking"


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
        self._refuse_suspended(ctx.session, ctx.sender.account)
        self._bind(ctx)

    def before_accept_batch(self, ctxs: Sequence[SendContext]) -> None:
        """The suspension check once per sender of the batch, then each envelope in order."""
        if not ctxs:
            return
        for account in sorted({c.sender.account for c in ctxs}):
            self._refuse_suspended(ctxs[0].session, account)
        for ctx in ctxs:
            self._bind(ctx)

    @staticmethod
    def _refuse_suspended(session: Session, account: str) -> None:
        suspended = session.execute(  # one column, no ORM object: this runs on every send
            select(Account.suspended).where(Account.name == account)
        ).scalar_one_or_none()
        if suspended is None or suspended:
            raise SendRefused("account_suspended", "account suspended", 403)

    def _bind(self, ctx: SendContext) -> None:
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
        env = franking_envelope(ctx)
        ctx.env[FRANKING_ENV_KEY] = env.to_json()
        ctx.scratch[_SCRATCH] = (env, raw)  # after_accept tags these without decoding again
        if ctx.group is not None:
            _record_group_epoch(
                ctx.session, ctx.group.id, ctx.group.membership_epoch, list(ctx.group.members)
            )

    def after_accept(self, ctx: SendContext, receipt: SendReceipt) -> SendReceipt:
        return self.after_accept_batch([ctx], [receipt])[0]

    def after_accept_batch(
        self, ctxs: Sequence[SendContext], receipts: Sequence[SendReceipt]
    ) -> list[SendReceipt]:
        """Tag every message of the batch (the keyring is looked up once, at one ``now``)."""
        out = list(receipts)
        tagged = [i for i, c in enumerate(ctxs) if c.envelope.kind == "message"]
        if not tagged:
            return out
        now = self.clock()
        keyring = self.vault.keyring(ctxs[0].session, now)
        for i in tagged:
            ctx = ctxs[i]
            bound = ctx.scratch.get(_SCRATCH)
            if isinstance(bound, tuple):
                env, commitment = bound
            else:
                env = ServerEnvelope.from_json(ctx.env[FRANKING_ENV_KEY])
                commitment = b64d(ctx.envelope.commitment or "", length=COMMITMENT_BYTES)
            kid, value = tag(keyring, commitment, env, now)
            franking = FrankingTag.model_construct(kid=kid, tag=b64e(value))  # built here: valid
            out[i] = out[i].model_copy(update={"franking": franking})
        return out

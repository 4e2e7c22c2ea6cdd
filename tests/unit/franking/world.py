"""A tiny in-process world for franking tests: senders, a relay with a tag keyring, reporters."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime

from fulcrum.franking import (
    GENESIS_PREV,
    AbuseReport,
    AttachmentRef,
    FrankingBundle,
    FrankingMeta,
    GroupAudience,
    ReasonCode,
    ReportedMessage,
    ServerEnvelope,
    TagKeyring,
    commit,
    new_franking_key,
    tag,
)
from fulcrum.franking._fields import to_ms
from fulcrum.hazmat.symmetric import sha256

T0 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
DM = "dm:alice:bob"


class World:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now
        self.keyring, self.events = TagKeyring().advance(now)
        self.chains: dict[tuple[str, str, str], bytes] = {}
        self.ts = to_ms(now)

    def send(
        self,
        sender: str,
        body: bytes,
        *,
        device: str = "dev1",
        conv: str = DM,
        recipients: tuple[str, ...] | None = None,
        group: GroupAudience | None = None,
        attachments: tuple[AttachmentRef, ...] = (),
        **meta_overrides: object,
    ) -> FrankingBundle:
        key = (sender, device, conv)
        meta = FrankingMeta(
            sender=sender,
            sender_device=device,
            conv=conv,
            msg_id=os.urandom(16),
            client_ts=self.ts,
            content_type="text/plain",
            prev=self.chains.get(key, GENESIS_PREV),
            attachments=attachments,
        )
        if meta_overrides:
            meta = dataclasses.replace(meta, **meta_overrides)  # type: ignore[arg-type]
        k_f = new_franking_key()
        c = commit(k_f, meta, body)
        self.ts += 1000
        if group is None and recipients is None:
            recipients = tuple(p for p in ("alice", "bob") if p != sender)
        env = ServerEnvelope(
            sender=sender,
            sender_device=device,
            conv=conv,
            msg_id=meta.msg_id,
            server_ts=self.ts,
            ct_sha256=sha256(b"ciphertext:" + meta.msg_id),
            recipients=recipients or (),
            group=group,
        )
        kid, t = tag(self.keyring, c, env, self.now)
        self.chains[key] = c
        return FrankingBundle(body, meta, k_f, c, env, kid, t)


def report(
    reporter: str,
    messages: list[FrankingBundle] | list[ReportedMessage],
    chosen: list[FrankingBundle],
    *,
    reason: ReasonCode = ReasonCode.HARASSMENT,
    involves_child: bool = False,
    report_id: str = "rep-1",
) -> AbuseReport:
    wrapped = tuple(m if isinstance(m, ReportedMessage) else ReportedMessage(m) for m in messages)
    return AbuseReport(
        report_id=report_id,
        reporter_account=reporter,
        reporter_device="rdev",
        reason=reason,
        involves_child=involves_child,
        chosen=tuple(b.msg_id for b in chosen),
        messages=wrapped,
    )


def conversation(world: World, n: int = 6) -> list[FrankingBundle]:
    """Alternating alice/bob messages in the DM."""
    out = []
    for i in range(n):
        sender = "alice" if i % 2 == 0 else "bob"
        out.append(world.send(sender, f"message {i} from {sender}".encode()))
    return out

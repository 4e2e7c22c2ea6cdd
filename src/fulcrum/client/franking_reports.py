"""Building and submitting an abuse report from this device's kept franking bundles."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from fulcrum.client.core import ClientError
from fulcrum.client.franking_layer import NAME
from fulcrum.client.transport import ApiError
from fulcrum.e2ee import open_attachment
from fulcrum.e2ee.content import AttachmentKey
from fulcrum.encoding import b64d, b64e
from fulcrum.franking import (
    DEFAULT_CONTEXT_MESSAGES,
    AbuseReport,
    AttachmentOpening,
    FrankingBundle,
    FrankingMeta,
    ReasonCode,
    ReportedMessage,
    ServerEnvelope,
    report_context,
)
from fulcrum.wire.reports import ReportReceipt, ReportSubmit, SentFranking

if TYPE_CHECKING:
    from fulcrum.client.sdk import FulcrumClient


async def _own_bundles(client: FulcrumClient, conv: str) -> list[FrankingBundle]:
    """This device's own sent messages in ``conv``, completed with the relay's env and tag."""
    state = client.core.layer_state.get(NAME, {})
    out = []
    for msg_id, entry in state.get("sent", {}).items():
        meta = FrankingMeta.from_json(entry["meta"])
        if meta.conv != conv:
            continue
        if entry.get("unrelayed"):
            continue
        if "env" not in entry:
            try:
                sent = await client.transport.call("GET", f"/franking/sent/{msg_id}", SentFranking)
            except ApiError:  # never relayed (e.g. refused): not part of the conversation
                entry["unrelayed"] = True
                continue
            entry.update(env=sent.env, kid=sent.kid, tag=sent.tag)
        out.append(
            FrankingBundle(
                b64d(entry["body"]),
                meta,
                b64d(entry["k_f"]),
                b64d(entry["c"]),
                ServerEnvelope.from_json(entry["env"]),
                str(entry["kid"]),
                b64d(entry["tag"]),
            )
        )
    return out


async def _openings(
    client: FulcrumClient, keys: list[dict[str, Any]]
) -> tuple[AttachmentOpening, ...]:
    out = []
    for raw in keys:
        key = AttachmentKey.from_json(raw)
        ciphertext = await client.transport.download_attachment(key.attachment_id)
        out.append(
            AttachmentOpening(key.k_att, key.nonce, ciphertext, open_attachment(key, ciphertext))
        )
    return tuple(out)


async def build_report(
    client: FulcrumClient,
    msg_ids: list[str],
    reason: ReasonCode,
    *,
    context: int = DEFAULT_CONTEXT_MESSAGES,
    involves_child: bool = False,
) -> AbuseReport:
    """The chosen received messages plus the last ``context`` messages of their conversation
    (both directions), each with its bundle, in conversation order."""
    state = client.core.layer_state.get(NAME, {})
    kept: dict[str, dict[str, Any]] = state.get("bundles", {})
    missing = [m for m in msg_ids if m not in kept]
    if missing:
        raise ClientError(f"no franking bundle kept for {missing[0]} (outside the report window?)")
    received = {m: FrankingBundle.from_json(e["bundle"]) for m, e in kept.items()}
    convs = {received[m].env.conv for m in msg_ids}
    if len(convs) != 1:
        raise ClientError("a report covers messages of one conversation")
    conv = convs.pop()
    history = [b for b in received.values() if b.env.conv == conv]
    history += await _own_bundles(client, conv)
    history.sort(key=lambda b: b.env.server_ts)
    chosen = [b64d(m) for m in msg_ids]
    selected = report_context(history, chosen, context)
    messages = []
    for bundle in selected:
        entry = kept.get(b64e(bundle.msg_id))
        openings = await _openings(client, entry["attachments"]) if entry else ()
        messages.append(ReportedMessage(bundle, openings))
    client.save()
    return AbuseReport(
        report_id="r-" + secrets.token_hex(12),
        reporter_account=client.core.account,
        reporter_device=client.core.device_id,
        reason=reason,
        involves_child=involves_child,
        chosen=tuple(chosen),
        messages=tuple(messages),
    )


async def submit_report(client: FulcrumClient, report: AbuseReport) -> ReportReceipt:
    return await client.transport.call(
        "POST", "/reports", ReportReceipt, body=ReportSubmit(report=report.to_json())
    )


async def report_message(
    client: FulcrumClient,
    msg_id: str,
    reason: ReasonCode,
    *,
    context: int = DEFAULT_CONTEXT_MESSAGES,
    involves_child: bool = False,
) -> ReportReceipt:
    report = await build_report(
        client, [msg_id], reason, context=context, involves_child=involves_child
    )
    return await submit_report(client, report)

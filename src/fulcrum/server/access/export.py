"""Evidence export and target notification for the warrant workflow.

``export_bundle`` decrypts every completed request's messages (K_m from the stored partials, the
body opened under the AAD rebuilt from the envelope, attachments from the keys sealed in the body
and the retained ciphertexts), lists every in-scope message that did not decrypt with its reason,
writes the bundle under ``<data_dir>/access/evidence/<case_id>``, logs ``EvidenceExported``,
records its inclusion proof in a cosigned checkpoint and zips it.

``notify_due`` unseals each warrant whose notify-after has passed (counting only judge-signed,
logged, timely extensions): it publishes the opening under ``<data_dir>/access/unsealed/``, logs
``WarrantUnsealed`` and queues a notice on every device of each target. It runs at server start,
from ``POST /v1/access/notify-due`` and from ``fulcrum warrant notify-due`` (run it from cron).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from fulcrum.access import NotificationExtension, due_notifications, judge_keys_from_log
from fulcrum.access.errors import AccessError
from fulcrum.e2ee.content import open_attachment, open_body, unpack_body
from fulcrum.e2ee.errors import DecryptionFailed
from fulcrum.encoding import canonical_json
from fulcrum.evidence import (
    EvidenceAttachment,
    EvidenceCase,
    EvidenceMessage,
    EvidenceProvenance,
    LogProof,
    RequestProvenance,
    record_export,
    write_bundle,
    zip_bundle,
)
from fulcrum.server.access.service import (
    LIMIT_NOTE,
    AccessService,
    WorkflowError,
    devices_of,
    header_for,
)
from fulcrum.store.access import (
    AccessExtension,
    AccessRetained,
    AccessRetainedAttachment,
    AccessWarrant,
)
from fulcrum.store.safety import enqueue_notice

PLATFORM = "fulcrum"
NOTICE = "warrant-unsealed"
NOTICE_TEXT = (
    "A court order gave authorities access to some of your messages. The order is now public "
    "in Fulcrum's transparency log (warrant {warrant_id})."
)


@dataclass(frozen=True)
class Exported:
    case_id: str
    path: Path
    zip_path: Path
    manifest_digest: bytes
    log_index: int
    messages: int
    decrypted: int


def log_proof(service: AccessService, index: int) -> LogProof:
    cp = service.log.checkpoint()
    _, proof = service.log.inclusion_proof(index, cp.size)
    entry = service.log.entries(index, index + 1)[0]
    return LogProof(entry, index, tuple(proof), cp.note)


def _message(r: AccessRetained, target: str, **kw: object) -> EvidenceMessage:
    meta = r.escrow_meta or {}
    ctx, _ = header_for(r)
    extensions = (r.env or {}).get("extensions", {})
    return EvidenceMessage(
        msg_id=r.msg_id, conv=r.conv, target=target, sender=r.sender_account,
        sender_device=r.sender_device,
        recipients=tuple(devices_of(r.recipients)),
        server_ts=r.server_ts, client_ts=int(meta.get("client_ts", r.server_ts)),
        escrow_field=r.escrow, ctx=None if ctx is None else ctx.to_bytes(),
        envelope=canonical_json(r.env or {}),
        forwarded=int(extensions.get("forward_count", 0) or 0) > 0,
        franking_verdict="not checked", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _decrypt(
    service: AccessService, r: AccessRetained, k_m: bytes, target: str, rid: str
) -> EvidenceMessage:
    try:
        body, keys = unpack_body(open_body(k_m, header_for(r)[1], r.body))
    except DecryptionFailed as exc:
        return _message(
            r,
            target,
            status="undecryptable",
            request_id=rid,
            failure=f"body does not open under K_m and the rebuilt header: {exc}",
        )
    files = []
    problems = []
    with service.db.read() as s:
        for key in keys:
            blob = s.get(AccessRetainedAttachment, key.attachment_id)
            try:
                if blob is None:
                    raise DecryptionFailed("attachment ciphertext was not retained")
                data = open_attachment(key, blob.blob)
                files.append(EvidenceAttachment(key.name or key.attachment_id, key.mime, data))
            except DecryptionFailed as exc:
                problems.append(f"attachment {key.attachment_id}: {exc}")
    text = body.decode("utf-8", errors="replace")
    if problems:
        text += "\n[" + "; ".join(problems) + "]"
    return _message(r, target, body=text, attachments=tuple(files), request_id=rid)


def export_bundle(service: AccessService, warrant_id: str, recipient: str) -> Exported:
    opening = service.opening(warrant_id)
    w = opening.signed.warrant
    requests = [r for r in service.requests_of(warrant_id) if r.completed_at is not None]
    if not requests:
        raise WorkflowError(409, "nothing_completed", "no completed decryption request")
    targets = set(w.targets)

    def target_of(r: AccessRetained) -> str:
        parties = [r.sender_account, *(x.partition("/")[0] for x in r.recipients)]
        return next(p for p in parties if p in targets)

    rows = service.in_scope(opening)
    by_id = {r.id: r for r in rows}
    messages: dict[int, EvidenceMessage] = {}
    provenance = []
    epoch_proofs: dict[int, LogProof] = {}
    for req in requests:
        request, keys, binding, partials = service.keys(req.request_id)
        record = service.council.record(req.epoch) if service.council else None
        assert record is not None
        for rid, k_m in zip(req.retained_ids, keys, strict=True):
            r = by_id.get(rid)
            if r is not None:
                messages[rid] = _decrypt(service, r, k_m, target_of(r), req.request_id)
        if req.epoch not in epoch_proofs:
            epoch_proofs[req.epoch] = log_proof(service, record.log_index)
        provenance.append(RequestProvenance(
            req.request_id, binding, record.bundle.to_bytes(),
            tuple((it.ctx.msg_id, it.field.to_bytes(), it.ctx.to_bytes()) for it in request.items),
            tuple(p.to_bytes() for p in partials), epoch_proofs[req.epoch]))  # fmt: skip
    problems = {c.row_id: c.problem for c in service.candidates(rows) if c.problem}
    beyond = {c.row_id for c in service.unrequested(warrant_id)[1]}
    for r in rows:
        if r.id not in messages:
            why = problems.get(r.id) or (
                "not requested: warrant limit"
                if r.id in beyond
                else "not yet requested or not yet completed"
            )
            messages[r.id] = _message(r, target_of(r), status="undecryptable", failure=why)
    ordered = [messages[r.id] for r in rows]
    now = service.now()
    case_id = f"case-{secrets.token_hex(6)}"
    notes = (LIMIT_NOTE.format(n=len(beyond)),) if beyond else ()
    case = EvidenceCase(case_id, warrant_id, w.agency, recipient, PLATFORM, now, notes)
    indices = [st.log_index for st in service.steps(warrant_id)
               if st.step in ("WarrantRegistered", "DecryptionRequested")]  # fmt: skip
    prov = EvidenceProvenance(
        opening.signed.to_bytes(), tuple(log_proof(service, i) for i in indices), tuple(provenance)
    )
    out = service.root / "evidence" / case_id
    key = service.seal.exporter()
    result = write_bundle(out, case, ordered, prov, key, actor="platform-legal")
    index = service._append(
        warrant_id,
        result.export_entry(case, now),
        f"{case_id} to {recipient}: {len(ordered)} message(s)",
    )
    record_export(out, log_proof(service, index), key, actor="platform-legal", time=now)
    zipped = zip_bundle(out, out.with_suffix(".zip"))
    with service.db.write() as s:
        row = s.get(AccessWarrant, warrant_id)
        assert row is not None
        row.stage = "exported"
    decrypted = sum(1 for m in ordered if m.status == "decrypted")
    return Exported(case_id, out, zipped, result.manifest_digest, index, len(ordered), decrypted)


def extend(service: AccessService, warrant_id: str, data: bytes) -> int:
    """Log a judge-signed notification extension (refused unless it verifies and postpones)."""
    from fulcrum.access.warrant import verify_judge_signature

    w = service.opening(warrant_id).signed.warrant
    try:
        ext = NotificationExtension.from_bytes(data)
        if ext.warrant_id != warrant_id:
            raise AccessError("the extension is for another warrant")
        verify_judge_signature(judge_keys_from_log(service.entries()), ext.judge_key_id,
                               ext.message(), ext.signature, ext.issued_at)  # fmt: skip
        if not w.notify_after < ext.delayed_until <= w.window_end + 365 * 86_400:
            raise AccessError("an extension must postpone notification, by at most one year")
    except AccessError as exc:
        raise WorkflowError(403, "extension_refused", str(exc)) from exc
    index = service._append(
        warrant_id,
        ext.to_log_entry(service.now()),
        f"notification delayed until {ext.delayed_until}",
    )
    with service.db.write() as s:
        s.add(AccessExtension(warrant_id=warrant_id, extension=data, log_index=index))
    return index


def notify_due(service: AccessService, now: int | None = None) -> list[str]:
    """Unseal and notify every warrant whose notification is due; returns their ids."""
    now = service.now() if now is None else now
    with service.db.read() as s:
        pending = [w.warrant_id for w in s.scalars(
            select(AccessWarrant).where(AccessWarrant.unsealed_at.is_(None)))]  # fmt: skip
        exts = [NotificationExtension.from_bytes(e.extension)
                for e in s.scalars(select(AccessExtension))]  # fmt: skip
    if not pending:
        return []
    entries = service.entries()
    openings = {wid: service.opening(wid) for wid in pending}
    due = due_notifications(
        [o.signed.warrant for o in openings.values()],
        exts,
        now,
        log_entries=entries,
        judge_keys=judge_keys_from_log(entries),
    )
    done = []
    for d in due:
        opening = openings[d.warrant_id]
        folder = service.root / "unsealed"
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(d.warrant_id.encode()).hexdigest()[:32]
        (folder / f"{name}.json").write_bytes(opening.to_bytes())
        service._append(d.warrant_id, opening.unsealed_entry(time=now), "opening published")
        with service.db.write() as s:
            row = s.get(AccessWarrant, d.warrant_id)
            assert row is not None
            row.unsealed_at, row.stage = now, "unsealed"
            for account in d.targets:
                enqueue_notice(
                    s, account, NOTICE, NOTICE_TEXT.format(warrant_id=d.warrant_id), now * 1000
                )
        done.append(d.warrant_id)
    return done


def published_opening(service: AccessService, warrant_id: str) -> bytes:
    row = service.warrant(warrant_id)
    if row.unsealed_at is None:
        raise WorkflowError(404, "not_unsealed", "the warrant is still sealed")
    return service.opening(warrant_id).to_bytes()


__all__ = ["Exported", "export_bundle", "extend", "log_proof", "notify_due", "published_opening"]

"""Decryption requests of the warrant workflow: scope, the max_messages allowance, the
trustees' partials and their combination.

    request  -> DecryptionRequested per escrow epoch (at most the warrant's remaining allowance)
    answer   -> PartialsIssued per approving trustee (only once the request is cosigned)
    complete -> AccessCompleted (K_m combined, each body opened under its rebuilt header)
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy import select

from fulcrum.access import (
    AccessError,
    AccessUsage,
    DecryptionRequest,
    LoggedRequest,
    RequestItem,
    WarrantOpening,
    answer_request,
    open_request,
    partials_entry,
)
from fulcrum.access.completion import access_completed_entry
from fulcrum.e2ee.content import open_body
from fulcrum.e2ee.errors import DecryptionFailed
from fulcrum.encoding import b64d, b64e
from fulcrum.escrow import (
    EscrowContext,
    EscrowError,
    TrusteePartial,
    verify_escrow_proof,
    verify_partial,
)
from fulcrum.server.access.ledger import WarrantLedger, WorkflowError
from fulcrum.server.access.remote import RemoteTrustee, RemoteTrusteeRefused
from fulcrum.store.access import AccessRequest, AccessRetained, AccessWarrant

MAX_ITEMS_PER_REQUEST = 500
LIMIT_NOTE = "{n} further messages in scope not requested: warrant limit"


@dataclass(frozen=True)
class Candidate:
    """A retained message in scope: its request item, or why none could be made."""

    row_id: int
    item: RequestItem | None
    problem: str | None


def devices_of(labels: Sequence[str]) -> list[tuple[str, str]]:
    """``"account/device"`` labels as (account, device) pairs."""
    return [(a, d) for a, _, d in (x.partition("/") for x in labels)]


def header_for(row: AccessRetained) -> tuple[EscrowContext | None, bytes]:
    """The escrow context and the body AAD (canonical MessageHeader) rebuilt from the envelope."""
    from fulcrum.e2ee.payload import MessageHeader

    meta = row.escrow_meta or {}
    client_ts = int(meta.get("client_ts", row.server_ts))
    header = MessageHeader(
        conv=row.conv, sender=row.sender_account, sender_device=row.sender_device,
        recipients=tuple(row.recipients), msg_id=row.msg_id, client_ts=client_ts,
        content_type=row.content_type, group_id=row.group_id,
        membership_epoch=row.membership_epoch,
    )  # fmt: skip
    if "epoch" not in meta:
        return None, header.canonical()
    ctx = EscrowContext.for_message(
        epoch=int(meta["epoch"]), conv=row.conv, msg_id=row.msg_id, sender=row.sender_account,
        sender_device=row.sender_device, recipient_devices=devices_of(row.recipients),
        client_ts=client_ts,
    )  # fmt: skip
    return ctx, header.canonical()


class DecryptionDesk(WarrantLedger):
    """The request, answer and combine steps (see the module docstring).

    ``remote_trustees`` maps DKG share indices to trustees run as their own processes
    (``FULCRUM_ACCESS_TRUSTEES``); every other trustee answers in this process.
    """

    remote_trustees: Mapping[int, RemoteTrustee] = MappingProxyType({})

    def in_scope(self, opening: WarrantOpening) -> list[AccessRetained]:
        """Retained messages to or from a target whose claimed time lies in the window."""
        w = opening.signed.warrant
        targets = set(w.targets)
        with self.db.read() as s:
            rows = list(s.scalars(select(AccessRetained).order_by(AccessRetained.server_ts)))
            for r in rows:
                s.expunge(r)
        out = []
        for r in rows:
            parties = {r.sender_account, *(x.partition("/")[0] for x in r.recipients)}
            ts = int((r.escrow_meta or {}).get("client_ts", r.server_ts))
            if parties & targets and w.covers_ms(ts):
                out.append(r)
        return out

    def candidates(self, rows: Sequence[AccessRetained]) -> list[Candidate]:
        out = []
        council = self._council()
        for r in rows:
            ctx, _ = header_for(r)
            if r.escrow is None or ctx is None:
                out.append(Candidate(r.id, None, "the message carries no escrow field"))
                continue
            record = council.record(ctx.epoch)
            if record is None:
                out.append(Candidate(r.id, None, f"no epoch key for epoch {ctx.epoch}"))
                continue
            try:
                item = RequestItem.create(r.escrow, ctx, devices_of(r.recipients))
            except EscrowError:
                out.append(Candidate(r.id, None, "malformed escrow field"))
                continue
            if not verify_escrow_proof(item.field, ctx, record.bundle.group_key):
                out.append(
                    Candidate(
                        r.id,
                        None,
                        "escrow context could not be rebuilt "
                        "from the envelope (proof does not verify)",
                    )
                )
                continue
            out.append(Candidate(r.id, item, None))
        return out

    def allowance(self, warrant_id: str) -> int:
        """max_messages minus the messages already requested under the warrant (from the log)."""
        w = self.opening(warrant_id).signed.warrant
        used = AccessUsage.from_entries(self.entries()).messages_by_warrant.get(warrant_id, 0)
        return max(0, w.max_messages - used)

    def unrequested(self, warrant_id: str) -> tuple[list[Candidate], list[Candidate]]:
        """In-scope requestable messages not yet requested: (within the allowance, beyond it)."""
        opening = self.opening(warrant_id)
        with self.db.read() as s:
            done = {i for r in s.scalars(select(AccessRequest).where(
                AccessRequest.warrant_id == warrant_id)) for i in r.retained_ids}  # fmt: skip
        fresh = [c for c in self.candidates(self.in_scope(opening))
                 if c.item is not None and c.row_id not in done]  # fmt: skip
        allowed = self.allowance(warrant_id)
        return fresh[:allowed], fresh[allowed:]

    def withheld(self, warrant_id: str) -> int:
        """How many in-scope messages the warrant's limit keeps from being requested."""
        if self.council is None or self.warrant(warrant_id).activated_at is None:
            return 0
        return len(self.unrequested(warrant_id)[1])

    def request(self, warrant_id: str, *, checkpoint: bool = True) -> list[str]:
        """Request the in-scope messages not yet requested, at most the warrant's remaining
        allowance (the trustees refuse more), one request per escrow epoch (and chunk)."""
        row = self.warrant(warrant_id)
        if row.activated_at is None:
            raise WorkflowError(409, "not_approved", "the warrant lacks its approval quorum")
        fresh, _ = self.unrequested(warrant_id)
        by_epoch: dict[int, list[Candidate]] = {}
        for c in fresh:
            assert c.item is not None
            by_epoch.setdefault(c.item.ctx.epoch, []).append(c)
        ids = []
        for epoch, group in sorted(by_epoch.items()):
            for start in range(0, len(group), MAX_ITEMS_PER_REQUEST):
                chunk = group[start : start + MAX_ITEMS_PER_REQUEST]
                request_id = f"req-{secrets.token_hex(8)}"
                items = tuple(c.item for c in chunk if c.item is not None)
                request = DecryptionRequest(warrant_id, request_id, epoch, items)
                index = self._append(
                    warrant_id,
                    request.to_log_entry(self.now()),
                    f"{request_id}: {len(items)} item(s), epoch {epoch}",
                )
                with self.db.write() as s:
                    s.add(AccessRequest(request_id=request_id, warrant_id=warrant_id,
                                        epoch=epoch, retained_ids=[c.row_id for c in chunk],
                                        log_index=index, partials={}, decrypted=0))  # fmt: skip
                ids.append(request_id)
        if ids:
            with self.db.write() as s:
                w = s.get(AccessWarrant, warrant_id)
                assert w is not None
                w.stage = "requested"
        if ids and checkpoint:
            self.log.checkpoint()
        return ids

    def load_request(self, request_id: str) -> tuple[AccessRequest, DecryptionRequest]:
        with self.db.read() as s:
            row = s.get(AccessRequest, request_id)
            if row is None:
                raise WorkflowError(404, "request_unknown", f"no request {request_id!r}")
            s.expunge(row)
            retained = {r.id: r for r in s.scalars(
                select(AccessRetained).where(AccessRetained.id.in_(row.retained_ids)))}  # fmt: skip
            for r in retained.values():
                s.expunge(r)
        items = []
        for c in self.candidates([retained[i] for i in row.retained_ids]):
            if c.item is None:
                raise WorkflowError(409, "request_changed", f"item no longer valid: {c.problem}")
            items.append(c.item)
        return row, DecryptionRequest(row.warrant_id, request_id, row.epoch, tuple(items))

    def logged(self, row: AccessRequest) -> LoggedRequest:
        """The request's entry with its proof under the latest cosigned checkpoint (if any)."""
        entry = self.log.entries(row.log_index, row.log_index + 1)[0]
        latest = self.log.latest()
        if latest is None or latest.size <= row.log_index:
            return LoggedRequest(entry, row.log_index, (), latest.note if latest else b"")
        _, proof = self.log.inclusion_proof(row.log_index, latest.size)
        note = latest.note + "".join(latest.cosignatures).encode()
        return LoggedRequest(entry, row.log_index, tuple(proof), note)

    # --- trustees answer, combine ------------------------------------------------------------

    def answer(self, request_id: str, trustees: Sequence[str] | None = None) -> dict[str, str]:
        """Each named (default: every approving) trustee checks and answers; returns refusals."""
        council = self._council()
        row, request = self.load_request(request_id)
        opening = self.opening(row.warrant_id)
        record = council.record(row.epoch)
        assert record is not None
        logged = self.logged(row)
        approvals = self._approvals(row.warrant_id)
        refused: dict[str, str] = {}
        partials = dict(row.partials)
        for position, store in enumerate(council.stores, start=1):  # DKG share index
            name = store.name
            if (trustees is not None and name not in trustees) or name in partials:
                continue
            if not approvals.get(name):
                refused[name] = "did not approve this warrant"
                continue
            try:
                remote = self.remote_trustees.get(position)
                if remote is not None:
                    partial = remote.answer(request, opening, logged)
                    if not verify_partial(partial, request.escrow_items(), record.bundle,
                                          logged.binding):  # fmt: skip
                        raise RemoteTrusteeRefused(f"{name}: partial does not verify")
                else:
                    partial = answer_request(
                        request, opening, logged, self.trust(), store.share(row.epoch),
                        record.bundle.group_key, log_entries=self.entries(), now=self.now(),
                    )  # fmt: skip
            except (AccessError, EscrowError) as exc:
                refused[name] = str(exc)
                continue
            self._append(
                row.warrant_id,
                partials_entry(request, partial, name, self.now()),
                f"{name}: {len(partial.partials)} partial(s) for {request_id}",
            )
            partials[name] = b64e(partial.to_bytes())
            with self.db.write() as s:
                stored = s.get(AccessRequest, request_id)
                assert stored is not None
                stored.partials = dict(partials)
        return refused

    def keys(
        self, request_id: str
    ) -> tuple[DecryptionRequest, tuple[bytes, ...], bytes, list[TrusteePartial]]:
        """Combine the stored partials: every K_m of the request, in item order."""
        council = self._council()
        row, request = self.load_request(request_id)
        record = council.record(row.epoch)
        assert record is not None
        partials = [TrusteePartial.from_bytes(b64d(p)) for p in row.partials.values()]
        binding = self.logged(row).binding
        try:
            keys = open_request(request, partials, record.bundle, binding, optimistic=True)
        except EscrowError as exc:
            raise WorkflowError(409, "cannot_combine", str(exc)) from exc
        return request, keys, binding, partials

    def complete(self, request_id: str) -> int:
        council = self._council()
        request, keys, _, partials = self.keys(request_id)
        row, _ = self.load_request(request_id)
        with self.db.read() as s:
            rows = [s.get(AccessRetained, i) for i in row.retained_ids]
        decrypted = 0
        for r, k_m in zip(rows, keys, strict=True):
            assert r is not None
            try:
                open_body(k_m, header_for(r)[1], r.body)
                decrypted += 1
            except DecryptionFailed:
                pass
        names = {i + 1: n for i, n in enumerate(council.policy.trustees)}  # DKG share indices
        entry = access_completed_entry(request, partials, names, decrypted, self.now())
        self._append(row.warrant_id, entry, f"{request_id}: {decrypted} message(s) decrypted")
        with self.db.write() as s:
            stored = s.get(AccessRequest, request_id)
            assert stored is not None
            stored.completed_at, stored.decrypted = self.now(), decrypted
            w = s.get(AccessWarrant, row.warrant_id)
            assert w is not None
            w.stage = "completed"
        return decrypted

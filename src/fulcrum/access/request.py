"""Decryption requests: items, their Merkle root, and the trustee's checks before any partial.

An item is (escrow field, ctx, recipient devices). ``ctx`` binds only a SHA-256 of the recipient
devices, so the platform supplies the device list with each item; the trustee recomputes
``recipient_devices_hash(devices)`` and requires it to equal ``ctx.recipients_hash`` before it
trusts the list to decide whether a target is the sender or a recipient. Forging a list that hashes
to the bound value needs a SHA-256 second preimage.

Item leaf = RFC 9162 leaf hash of ``domain_message("fulcrum/access/request-item/v1", field, ctx,
canonical_json(devices))``; ``request_digest`` is the RFC 9162 root over the leaves in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fulcrum.access.commitment import WarrantOpening, access_expires_at
from fulcrum.access.errors import AccessError, RequestRefused
from fulcrum.access.quota import AccessUsage
from fulcrum.encoding import canonical_json, domain_message
from fulcrum.escrow import (
    DecryptionItem,
    EscrowContext,
    EscrowError,
    EscrowField,
    TrusteePartial,
    TrusteeShare,
    issue_partials,
    parse_escrow_field,
    recipient_devices_hash,
)
from fulcrum.hazmat.ristretto import Point, RandomSource
from fulcrum.hazmat.symmetric import sha256
from fulcrum.translog import (
    CosignatureVerifier,
    DecryptionRequested,
    LogEntry,
    LogEntryError,
    NoteError,
    PartialsIssued,
    ProofError,
    TranslogError,
    TrusteeApproval,
    WarrantRegistered,
    leaf_hash,
    merkle_root,
    parse_entry,
    verify_cosigned_checkpoint,
    verify_inclusion,
)
from fulcrum.translog.note import Verifier

ITEM_DOMAIN = "fulcrum/access/request-item/v1"


@dataclass(frozen=True)
class RequestItem:
    """One selected message: its escrow field, context and the devices it was addressed to."""

    field: EscrowField
    ctx: EscrowContext
    recipient_devices: tuple[tuple[str, str], ...]

    @classmethod
    def create(
        cls, field: bytes | EscrowField, ctx: EscrowContext, devices: Iterable[tuple[str, str]]
    ) -> RequestItem:
        parsed = field if isinstance(field, EscrowField) else parse_escrow_field(field)
        return cls(parsed, ctx, tuple(sorted((str(a), str(d)) for a, d in devices)))

    def leaf(self) -> bytes:
        devices = canonical_json([list(p) for p in self.recipient_devices])
        msg = domain_message(ITEM_DOMAIN, self.field.to_bytes(), self.ctx.to_bytes(), devices)
        return leaf_hash(msg)

    def escrow_item(self) -> DecryptionItem:
        return DecryptionItem(self.field, self.ctx)

    def accounts(self) -> frozenset[str]:
        return frozenset({self.ctx.sender, *(a for a, _ in self.recipient_devices)})


@dataclass(frozen=True)
class DecryptionRequest:
    """The platform's selection of messages for one warrant and one escrow epoch."""

    warrant_id: str
    request_id: str
    epoch: int
    items: tuple[RequestItem, ...]

    def __post_init__(self) -> None:
        if not self.items:
            raise AccessError("a decryption request needs at least one item")
        if any(item.ctx.epoch != self.epoch for item in self.items):
            raise AccessError("every item of a request must be from the request's epoch")

    def root(self) -> bytes:
        return merkle_root([item.leaf() for item in self.items])

    def to_log_entry(self, time: int) -> DecryptionRequested:
        return DecryptionRequested(
            time=time,
            warrant_id=self.warrant_id,
            request_id=self.request_id,
            epoch=self.epoch,
            field_count=len(self.items),
            request_digest=self.root(),
        )

    def escrow_items(self) -> list[DecryptionItem]:
        return [item.escrow_item() for item in self.items]


@dataclass(frozen=True)
class LoggedRequest:
    """Evidence that a ``DecryptionRequested`` entry is in a witness-cosigned checkpoint."""

    entry_bytes: bytes
    leaf_index: int
    inclusion_proof: tuple[bytes, ...]
    checkpoint_note: bytes

    @property
    def binding(self) -> bytes:
        """The DLEQ request id: the RFC 9162 leaf hash of the logged entry."""
        return leaf_hash(self.entry_bytes)


@dataclass(frozen=True)
class LogTrust:
    """Whose checkpoints a trustee believes: the log key and a witness quorum."""

    log_verifier: Verifier
    witnesses: tuple[CosignatureVerifier, ...]
    min_witnesses: int = 2


def item_refusals(
    item: RequestItem,
    index: int,
    opening: WarrantOpening,
    epoch_key: Point,
    *,
    verify_proofs: bool = True,
) -> list[str]:
    from fulcrum.escrow import verify_escrow_proof

    w = opening.signed.warrant
    out: list[str] = []
    try:
        devices_ok = recipient_devices_hash(item.recipient_devices) == item.ctx.recipients_hash
    except EscrowError:
        devices_ok = False
    if not devices_ok:
        out.append(f"item {index}: recipient devices do not match the context's hash")
    elif not item.accounts() & set(w.targets):
        out.append(f"item {index}: no target is the sender or a recipient")
    if not w.covers_ms(item.ctx.client_ts):
        out.append(f"item {index}: sent outside the warrant's window")
    if verify_proofs and not verify_escrow_proof(item.field, item.ctx, epoch_key):
        out.append(f"item {index}: escrow proof does not bind R to this context")
    return out


def _quorum_refusals(warrant_id: str, log_entries: Sequence[LogEntry]) -> list[str]:
    """The log must hold the registration and at least its quorum of distinct approvals."""
    registered = next(
        (e for e in log_entries if isinstance(e, WarrantRegistered) and e.warrant_id == warrant_id),
        None,
    )
    if registered is None:
        return ["the warrant is not registered in the log"]
    approvers = {
        e.trustee_id
        for e in log_entries
        if isinstance(e, TrusteeApproval) and e.approved and e.warrant_id == warrant_id
    }
    if len(approvers) < registered.approvals_required:
        return [
            f"the log holds {len(approvers)} trustee approvals, "
            f"{registered.approvals_required} required"
        ]
    return []


def check_request(
    request: DecryptionRequest,
    opening: WarrantOpening,
    logged: LoggedRequest,
    trust: LogTrust,
    epoch_key: Point,
    *,
    log_entries: Sequence[LogEntry],
    now: int,
    epoch_quota: int | None = None,
    verify_proofs: bool = True,
) -> bytes:
    """Every check a trustee makes before issuing partials; returns the DLEQ binding.

    Refuses (``RequestRefused`` with every reason) unless: the request's entry is in a checkpoint
    signed by the log and cosigned by the witness quorum, and matches the request (ids, epoch,
    count, item root); the log holds the warrant's registration and its quorum of approvals;
    the warrant is the one the request names and is not expired; the warrant's total requested
    messages (from the log) stay within its maximum (and the epoch's within
    ``epoch_quota``); every item names a target as sender or recipient, lies in the window and
    its Schnorr proof binds R to its ctx (``verify_proofs=False`` leaves that to
    ``answer_request``, which checks each proof once inside ``escrow.issue_partials``).
    """
    reasons: list[str] = []
    try:
        cosigned = verify_cosigned_checkpoint(
            logged.checkpoint_note, trust.log_verifier, trust.witnesses, trust.min_witnesses
        )
        cp = cosigned.checkpoint
        verify_inclusion(
            logged.binding, logged.leaf_index, cp.size, logged.inclusion_proof, cp.root_hash
        )
    except (TranslogError, NoteError, ProofError, ValueError) as exc:
        raise RequestRefused((f"request is not in a witness-cosigned checkpoint: {exc}",)) from exc
    try:
        entry = parse_entry(logged.entry_bytes)
    except LogEntryError as exc:
        raise RequestRefused((f"logged entry does not parse: {exc}",)) from exc
    if not isinstance(entry, DecryptionRequested) or entry != request.to_log_entry(entry.time):
        raise RequestRefused(("the logged entry is not this request",))
    w = opening.signed.warrant
    if request.warrant_id != w.warrant_id:
        reasons.append("the request names another warrant")
    reasons.extend(_quorum_refusals(w.warrant_id, log_entries))
    if now > access_expires_at(opening.signed):
        reasons.append("the warrant's access period is over")
    usage = AccessUsage.from_entries(log_entries)
    if not usage.has_request(request.warrant_id, request.request_id):
        usage = AccessUsage.from_entries([*log_entries, entry])
    used = usage.messages_by_warrant.get(w.warrant_id, 0)
    if used > w.max_messages:
        reasons.append(f"warrant quota exceeded: {used} messages requested, {w.max_messages} max")
    if epoch_quota is not None and usage.messages_by_epoch.get(request.epoch, 0) > epoch_quota:
        reasons.append(f"epoch {request.epoch} quota of {epoch_quota} messages exceeded")
    for i, item in enumerate(request.items):
        reasons.extend(item_refusals(item, i, opening, epoch_key, verify_proofs=verify_proofs))
    if reasons:
        raise RequestRefused(tuple(reasons))
    return logged.binding


def issue_request_partials(
    request: DecryptionRequest,
    share: TrusteeShare,
    epoch_key: Point,
    binding: bytes,
    opening: WarrantOpening,
    *,
    rng: RandomSource | None = None,
) -> TrusteePartial:
    """Partials for a checked request; scope is re-checked item by item inside escrow."""
    by_msg = {item.ctx.to_bytes(): item for item in request.items}
    targets = set(opening.signed.warrant.targets)

    def in_scope(ctx: EscrowContext) -> bool:
        item = by_msg.get(ctx.to_bytes())
        return (
            item is not None
            and bool(item.accounts() & targets)
            and opening.signed.warrant.covers_ms(ctx.client_ts)
        )

    return issue_partials(
        share, request.escrow_items(), binding, epoch_key, in_scope=in_scope, rng=rng
    )


def answer_request(
    request: DecryptionRequest,
    opening: WarrantOpening,
    logged: LoggedRequest,
    trust: LogTrust,
    share: TrusteeShare,
    epoch_key: Point,
    *,
    log_entries: Sequence[LogEntry],
    now: int,
    epoch_quota: int | None = None,
    rng: RandomSource | None = None,
) -> TrusteePartial:
    """A trustee's whole answer: ``check_request`` then partials, each Schnorr proof checked once.

    Any refusal, including a proof that fails inside escrow, is a ``RequestRefused``.
    """
    binding = check_request(request, opening, logged, trust, epoch_key, log_entries=log_entries,
                            now=now, epoch_quota=epoch_quota, verify_proofs=False)  # fmt: skip
    try:
        return issue_request_partials(request, share, epoch_key, binding, opening, rng=rng)
    except EscrowError as exc:
        raise RequestRefused((str(exc),)) from exc


def partials_entry(
    request: DecryptionRequest, partial: TrusteePartial, trustee_id: str, time: int
) -> PartialsIssued:
    return PartialsIssued(
        time=time,
        warrant_id=request.warrant_id,
        request_id=request.request_id,
        trustee_id=trustee_id,
        partial_count=len(partial.partials),
        partials_digest=sha256(partial.to_bytes()),
    )

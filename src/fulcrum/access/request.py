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
from fulcrum.escrow.context import MAX_ID_CHARS
from fulcrum.escrow.field import verify_escrow_proof
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

    def devices_json(self) -> bytes:
        """Canonical JSON of the device list, as the leaf binds it."""
        return canonical_json([list(p) for p in self.recipient_devices])

    def leaf(self) -> bytes:
        return self._leaf(self.devices_json())

    def _leaf(self, devices_json: bytes) -> bytes:
        msg = domain_message(ITEM_DOMAIN, self.field.to_bytes(), self.ctx.to_bytes(), devices_json)
        return leaf_hash(msg)

    def devices_match(self, devices_json: bytes | None = None) -> bool:
        """Whether the device list hashes to the ``recipients`` value its ctx binds.

        When the list is already sorted, distinct and well formed (as ``create`` makes it), its
        canonical JSON is the very input of ``recipient_devices_hash`` and is hashed directly
        (``devices_json`` may pass the bytes the leaf already encoded); otherwise the general
        function decides.
        """
        devices = self.recipient_devices
        if devices and all(_valid_pair(p) for p in devices) and _strictly_sorted(devices):
            encoded = self.devices_json() if devices_json is None else devices_json
            return sha256(encoded) == self.ctx.recipients_hash
        try:
            return recipient_devices_hash(devices) == self.ctx.recipients_hash
        except EscrowError:
            return False

    def escrow_item(self) -> DecryptionItem:
        return DecryptionItem(self.field, self.ctx)

    def accounts(self) -> frozenset[str]:
        return frozenset({self.ctx.sender, *(a for a, _ in self.recipient_devices)})


def _valid_pair(pair: tuple[str, str]) -> bool:
    return len(pair) == 2 and all(type(v) is str and 1 <= len(v) <= MAX_ID_CHARS for v in pair)


def _strictly_sorted(devices: Sequence[tuple[str, str]]) -> bool:
    return all(devices[k] < devices[k + 1] for k in range(len(devices) - 1))


def _targets_item(item: RequestItem, targets: frozenset[str]) -> bool:
    return item.ctx.sender in targets or any(a in targets for a, _ in item.recipient_devices)


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

    def to_log_entry(self, time: int, *, root: bytes | None = None) -> DecryptionRequested:
        """The entry to log; ``root`` may pass ``self.root()`` when the caller already has it."""
        return DecryptionRequested(
            time=time,
            warrant_id=self.warrant_id,
            request_id=self.request_id,
            epoch=self.epoch,
            field_count=len(self.items),
            request_digest=self.root() if root is None else root,
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
    targets = frozenset(opening.signed.warrant.targets)
    out = _scope_refusals(item, index, opening, targets, item.devices_match())
    if verify_proofs and not verify_escrow_proof(item.field, item.ctx, epoch_key):
        out.append(f"item {index}: escrow proof does not bind R to this context")
    return out


def _scope_refusals(
    item: RequestItem,
    index: int,
    opening: WarrantOpening,
    targets: frozenset[str],
    devices_ok: bool,
) -> list[str]:
    out: list[str] = []
    if not devices_ok:
        out.append(f"item {index}: recipient devices do not match the context's hash")
    elif not _targets_item(item, targets):
        out.append(f"item {index}: no target is the sender or a recipient")
    if not opening.signed.warrant.covers_ms(item.ctx.client_ts):
        out.append(f"item {index}: sent outside the warrant's window")
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
    # One pass over the items: each device list is encoded once, for its leaf and its hash check.
    encoded = [item.devices_json() for item in request.items]
    root = merkle_root([item._leaf(d) for item, d in zip(request.items, encoded, strict=True)])
    if not isinstance(entry, DecryptionRequested) or entry != request.to_log_entry(
        entry.time, root=root
    ):
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
    targets = frozenset(w.targets)
    for i, (item, devices) in enumerate(zip(request.items, encoded, strict=True)):
        reasons.extend(_scope_refusals(item, i, opening, targets, item.devices_match(devices)))
        if verify_proofs and not verify_escrow_proof(item.field, item.ctx, epoch_key):
            reasons.append(f"item {i}: escrow proof does not bind R to this context")
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
    w = opening.signed.warrant
    targets = frozenset(w.targets)
    allowed = {
        item.ctx.to_bytes()
        for item in request.items
        if _targets_item(item, targets) and w.covers_ms(item.ctx.client_ts)
    }

    def in_scope(ctx: EscrowContext) -> bool:
        return ctx.to_bytes() in allowed and w.covers_ms(ctx.client_ts)

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

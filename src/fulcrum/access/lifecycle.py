"""A warrant's lifecycle as a pure state machine: every step returns the next state and the log
entry to append. Nothing is appended here; the caller logs the entry, then keeps the new state.

    SUBMITTED -register-> REGISTERED -approvals >= required-> APPROVED -request-> REQUESTED
    REQUESTED -partials-> REQUESTED ... -complete-> COMPLETED -export-> EXPORTED
    any stage after REGISTERED -delay-> (same stage) ;  -unseal-> UNSEALED (final)
    a denial is logged too (``TrusteeApproval`` with ``approved=False``); enough denials that the
    quorum can no longer be reached -> DENIED (final).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from fulcrum.access.commitment import WarrantOpening
from fulcrum.access.completion import access_completed_entry
from fulcrum.access.decision import TrusteeDecision
from fulcrum.access.errors import LifecycleError
from fulcrum.access.notification import NotificationExtension
from fulcrum.access.request import DecryptionRequest, partials_entry
from fulcrum.escrow import TrusteePartial
from fulcrum.translog import (
    AccessCompleted,
    DecryptionRequested,
    EvidenceExported,
    NotificationDelayed,
    PartialsIssued,
    TrusteeApproval,
    WarrantRegistered,
    WarrantUnsealed,
)


class Stage(Enum):
    SUBMITTED = "submitted"
    REGISTERED = "registered"
    APPROVED = "approved"
    DENIED = "denied"
    REQUESTED = "requested"
    COMPLETED = "completed"
    EXPORTED = "exported"
    UNSEALED = "unsealed"


_ACTIVE = (Stage.APPROVED, Stage.REQUESTED, Stage.COMPLETED, Stage.EXPORTED)


@dataclass(frozen=True)
class WarrantCase:
    warrant_id: str
    trustees: frozenset[str]
    approvals_required: int
    stage: Stage = Stage.SUBMITTED
    approvals: frozenset[str] = frozenset()
    denials: frozenset[str] = frozenset()
    requests: frozenset[str] = frozenset()
    partials: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    completed: frozenset[str] = frozenset()
    messages_decrypted: int = 0

    def _need(self, *stages: Stage) -> None:
        if self.stage not in stages:
            names = ", ".join(s.value for s in stages)
            raise LifecycleError(f"warrant {self.warrant_id} is {self.stage.value}, need {names}")

    def register(self, opening: WarrantOpening, time: int) -> tuple[WarrantCase, WarrantRegistered]:
        self._need(Stage.SUBMITTED)
        if opening.signed.warrant.warrant_id != self.warrant_id:
            raise LifecycleError("the opening is for another warrant")
        entry = opening.registration_entry(time=time, approvals_required=self.approvals_required)
        return replace(self, stage=Stage.REGISTERED), entry

    def decide(self, decision: TrusteeDecision, time: int) -> tuple[WarrantCase, TrusteeApproval]:
        self._need(Stage.REGISTERED, Stage.APPROVED)
        if decision.warrant_id != self.warrant_id or decision.trustee_id not in self.trustees:
            raise LifecycleError("decision from an unknown trustee or for another warrant")
        if decision.trustee_id in self.approvals | self.denials:
            raise LifecycleError(f"trustee {decision.trustee_id} has already decided")
        if decision.approved:
            approvals = self.approvals | {decision.trustee_id}
            stage = Stage.APPROVED if len(approvals) >= self.approvals_required else self.stage
            return replace(self, approvals=approvals, stage=stage), decision.to_log_entry(time)
        denials = self.denials | {decision.trustee_id}
        undecided = len(self.trustees) - len(self.approvals) - len(denials)
        stage = self.stage
        if self.stage is Stage.REGISTERED and len(self.approvals) + undecided < (
            self.approvals_required
        ):
            stage = Stage.DENIED
        return replace(self, denials=denials, stage=stage), decision.to_log_entry(time)

    def request(
        self, request: DecryptionRequest, time: int
    ) -> tuple[WarrantCase, DecryptionRequested]:
        self._need(*_ACTIVE)
        if request.warrant_id != self.warrant_id or request.request_id in self.requests:
            raise LifecycleError("request for another warrant or with a reused request id")
        case = replace(self, stage=Stage.REQUESTED, requests=self.requests | {request.request_id})
        return case, request.to_log_entry(time)

    def record_partials(
        self, request: DecryptionRequest, partial: TrusteePartial, trustee_id: str, time: int
    ) -> tuple[WarrantCase, PartialsIssued]:
        self._need(Stage.REQUESTED)
        if request.request_id not in self.requests or trustee_id not in self.approvals:
            raise LifecycleError("partials for an unknown request or from a non-approving trustee")
        key = (request.request_id, trustee_id)
        if key in self.partials:
            raise LifecycleError(f"trustee {trustee_id} already answered {request.request_id}")
        case = replace(self, partials=self.partials | {key})
        return case, partials_entry(request, partial, trustee_id, time)

    def complete(
        self,
        request: DecryptionRequest,
        partials: tuple[TrusteePartial, ...],
        trustee_ids: dict[int, str],
        messages_decrypted: int,
        time: int,
    ) -> tuple[WarrantCase, AccessCompleted]:
        self._need(Stage.REQUESTED, Stage.COMPLETED, Stage.EXPORTED)
        if request.request_id not in self.requests or request.request_id in self.completed:
            raise LifecycleError("completion for an unknown or already completed request")
        used = {trustee_ids[p.trustee_index] for p in partials}
        if len(used) < self.approvals_required or not used <= self.approvals:
            raise LifecycleError("completion must use partials of approving trustees only")
        entry = access_completed_entry(request, partials, trustee_ids, messages_decrypted, time)
        case = replace(
            self,
            stage=Stage.COMPLETED,
            completed=self.completed | {request.request_id},
            messages_decrypted=self.messages_decrypted + messages_decrypted,
        )
        return case, entry

    def export(
        self, *, case_id: str, recipient: str, bundle_digest: bytes, item_count: int, time: int
    ) -> tuple[WarrantCase, EvidenceExported]:
        self._need(Stage.COMPLETED, Stage.EXPORTED)
        entry = EvidenceExported(
            time=time,
            case_id=case_id,
            recipient=recipient,
            bundle_digest=bundle_digest,
            item_count=item_count,
        )
        return replace(self, stage=Stage.EXPORTED), entry

    def delay(
        self, extension: NotificationExtension, time: int
    ) -> tuple[WarrantCase, NotificationDelayed]:
        if self.stage in (Stage.SUBMITTED, Stage.UNSEALED):
            raise LifecycleError(f"cannot delay notification of a {self.stage.value} warrant")
        if extension.warrant_id != self.warrant_id:
            raise LifecycleError("extension for another warrant")
        return self, extension.to_log_entry(time)

    def unseal(self, opening: WarrantOpening, time: int) -> tuple[WarrantCase, WarrantUnsealed]:
        if self.stage in (Stage.SUBMITTED, Stage.UNSEALED):
            raise LifecycleError(f"cannot unseal a {self.stage.value} warrant")
        if opening.signed.warrant.warrant_id != self.warrant_id:
            raise LifecycleError("the opening is for another warrant")
        return replace(self, stage=Stage.UNSEALED), opening.unsealed_entry(time=time)

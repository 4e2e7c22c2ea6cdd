"""The access role: the warrant workflow for judges, authorities and platform operators.

Every caller authenticates with an operator token (``fulcrum warrant operator``; only its SHA-256
is stored). Judges register nothing themselves: an operator logs a judge key, a judge (or the
authority carrying the signed warrant) submits it, the operator runs the trustees, the authority
requests and exports, a judge extends notification. Every step appends a log entry; the status
endpoint lists them with their log indices.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from fulcrum.access import AccessError
from fulcrum.encoding import b64d, b64e
from fulcrum.server.access import access_service
from fulcrum.server.access.export import export_bundle, extend, notify_due
from fulcrum.server.access.operators import Operator, require
from fulcrum.server.access.service import LIMIT_NOTE, AccessService, WorkflowError, judge_key
from fulcrum.server.errors import ApiError, error_responses
from fulcrum.server.state import relay_state
from fulcrum.store.access import AccessRetained, AccessTarget
from fulcrum.wire.access import (
    AccessKeys,
    ExportIn,
    ExportOut,
    ExtensionIn,
    JudgeKeyIn,
    LoggedOut,
    PartialsIn,
    RequestIn,
    RequestsOut,
    StepOut,
    UnsealedOut,
    WarrantIn,
    WarrantStatus,
)

T = TypeVar("T")
OPERATOR = Depends(require("operator"))
AUTHORITY = Depends(require("authority", "operator"))
JUDGE = Depends(require("judge"))
SUBMITTER = Depends(require("judge", "authority"))
ANYONE = Depends(require("judge", "authority", "operator"))
ERRORS = error_responses(401, 403, 404, 409)


async def _call(request: Request, fn: Callable[[AccessService], T]) -> T:
    service = access_service(relay_state(request.app))

    def run() -> T:
        try:
            return fn(service)
        except WorkflowError as exc:
            raise ApiError(exc.status, exc.code, exc.message) from exc
        except AccessError as exc:
            raise ApiError(409, "access_refused", str(exc)) from exc

    try:
        return await run_in_threadpool(run)
    except WorkflowError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from exc


def status_of(service: AccessService, warrant_id: str) -> WarrantStatus:
    row = service.warrant(warrant_id)
    with service.db.read() as s:
        targets = {t.account for t in s.query(AccessTarget).filter_by(warrant_id=warrant_id)}
        retained = sum(
            1
            for r in s.query(AccessRetained).filter(AccessRetained.reason == "warrant")
            if {r.sender_account, *(x.partition("/")[0] for x in r.recipients)} & targets
        )
    withheld = service.withheld(warrant_id)
    return WarrantStatus(
        warrant_id=warrant_id, stage=row.stage, activated_at=row.activated_at,
        unsealed_at=row.unsealed_at, retained=retained, withheld=withheld,
        notes=[LIMIT_NOTE.format(n=withheld)] if withheld else [],
        steps=[StepOut(step=s.step, log_index=s.log_index, time=s.time, detail=s.detail)
               for s in service.steps(warrant_id)],
    )  # fmt: skip


def build_router() -> APIRouter:
    router = APIRouter(prefix="/access", tags=["access"])

    @router.get("/keys", response_model=AccessKeys, responses=error_responses(404))
    async def access_keys(request: Request) -> AccessKeys:
        """The evidence exporter's public key (pin it, with the log and witness keys)."""
        key = await _call(request, lambda s: s.seal.exporter().public_key().raw)
        return AccessKeys(exporter=b64e(key))

    @router.post("/judge-keys", response_model=LoggedOut, responses=ERRORS)
    async def register_judge_key(
        request: Request, body: JudgeKeyIn, _op: Operator = OPERATOR
    ) -> LoggedOut:
        """Log a judge's Ed25519 key (``JudgeKeyRegistered``)."""

        def run(s: AccessService) -> int:
            try:
                key = judge_key(body.judge_key_id, body.court, b64d(body.public_key, length=32),
                                body.valid_from, body.valid_until)  # fmt: skip
            except (ValueError, AccessError) as exc:
                raise WorkflowError(422, "invalid_request", str(exc)) from exc
            return s.register_judge_key(key)

        return LoggedOut(log_index=await _call(request, run))

    @router.post("/warrants", response_model=WarrantStatus, responses=ERRORS)
    async def submit_warrant(
        request: Request, body: WarrantIn, op: Operator = SUBMITTER
    ) -> WarrantStatus:
        """Submit a judge-signed warrant: the platform keeps the opening sealed and logs
        ``WarrantRegistered`` with a salted commitment and public fields only."""

        def run(s: AccessService) -> WarrantStatus:
            return status_of(s, s.submit(b64d(body.signed_warrant), op.name))

        return await _call(request, run)

    @router.get("/warrants/{warrant_id}", response_model=WarrantStatus, responses=ERRORS)
    async def warrant_status(
        request: Request, warrant_id: str, _op: Operator = ANYONE
    ) -> WarrantStatus:
        """The warrant's stage and every logged step with its log index."""
        return await _call(request, lambda s: status_of(s, warrant_id))

    @router.post("/warrants/{warrant_id}/approvals", response_model=WarrantStatus, responses=ERRORS)
    async def run_trustee_approvals(
        request: Request, warrant_id: str, _op: Operator = OPERATOR
    ) -> WarrantStatus:
        """Each trustee decides independently (``TrusteeApproval``, approve or deny)."""

        def run(s: AccessService) -> WarrantStatus:
            s.approve(warrant_id)
            return status_of(s, warrant_id)

        return await _call(request, run)

    @router.post("/warrants/{warrant_id}/requests", response_model=RequestsOut, responses=ERRORS)
    async def request_decryption(
        request: Request, warrant_id: str, body: RequestIn, _op: Operator = AUTHORITY
    ) -> RequestsOut:
        """Select the retained messages in scope and log ``DecryptionRequested`` per epoch."""

        def run(s: AccessService) -> RequestsOut:
            ids = s.request(warrant_id, checkpoint=body.checkpoint)
            return RequestsOut(request_ids=ids, status=status_of(s, warrant_id))

        return await _call(request, run)

    @router.post("/requests/{request_id}/partials", response_model=WarrantStatus, responses=ERRORS)
    async def trustee_partials(
        request: Request, request_id: str, body: PartialsIn, _op: Operator = OPERATOR
    ) -> WarrantStatus:
        """Trustees answer a request that is in a witness-cosigned checkpoint
        (``PartialsIssued`` each); 409 ``request_refused`` if fewer than t answered."""

        def run(s: AccessService) -> WarrantStatus:
            refused = s.answer(request_id, body.trustees)
            row, _ = s.load_request(request_id)
            if len(row.partials) < s._council().policy.t:
                detail = "; ".join(f"{k}: {v}" for k, v in sorted(refused.items()))
                raise WorkflowError(409, "request_refused", detail or "too few trustees answered")
            return status_of(s, row.warrant_id)

        return await _call(request, run)

    @router.post("/requests/{request_id}/complete", response_model=WarrantStatus, responses=ERRORS)
    async def complete_request(
        request: Request, request_id: str, _op: Operator = AUTHORITY
    ) -> WarrantStatus:
        """Combine the partials, open the bodies, log ``AccessCompleted`` with counts."""

        def run(s: AccessService) -> WarrantStatus:
            s.complete(request_id)
            return status_of(s, s.load_request(request_id)[0].warrant_id)

        return await _call(request, run)

    @router.post("/warrants/{warrant_id}/export", response_model=ExportOut, responses=ERRORS)
    async def export_evidence(
        request: Request, warrant_id: str, body: ExportIn, _op: Operator = AUTHORITY
    ) -> ExportOut:
        """Write the evidence bundle, log ``EvidenceExported`` and record its inclusion proof."""

        def run(s: AccessService) -> ExportOut:
            done = export_bundle(s, warrant_id, body.recipient)
            return ExportOut(case_id=done.case_id, manifest_digest=b64e(done.manifest_digest),
                             log_index=done.log_index, messages=done.messages,
                             decrypted=done.decrypted,
                             download=f"/v1/access/exports/{done.case_id}.zip")  # fmt: skip

        return await _call(request, run)

    @router.get("/exports/{case_id}.zip", response_class=FileResponse, responses=ERRORS)
    async def download_evidence(request: Request, case_id: str, _op: Operator = AUTHORITY) -> Any:
        """The evidence bundle as a deterministic zip."""
        service = access_service(relay_state(request.app))
        path = service.root / "evidence" / f"{case_id}.zip"
        if not case_id.replace("-", "").isalnum() or not path.is_file():
            raise ApiError(404, "export_unknown", "no such evidence bundle")
        return FileResponse(path, media_type="application/zip", filename=f"{case_id}.zip")

    @router.post("/warrants/{warrant_id}/extensions", response_model=LoggedOut, responses=ERRORS)
    async def delay_notification(
        request: Request, warrant_id: str, body: ExtensionIn, _op: Operator = JUDGE
    ) -> LoggedOut:
        """Log a judge-signed notification extension (``NotificationDelayed``)."""
        data = b64d(body.extension)
        return LoggedOut(log_index=await _call(request, lambda s: extend(s, warrant_id, data)))

    @router.post("/notify-due", response_model=UnsealedOut, responses=ERRORS)
    async def notify_due_warrants(request: Request, _op: Operator = OPERATOR) -> UnsealedOut:
        """Unseal every warrant whose notify-after has passed and notify its targets."""
        return UnsealedOut(warrant_ids=await _call(request, notify_due))

    return router

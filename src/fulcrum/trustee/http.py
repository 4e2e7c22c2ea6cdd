"""HTTP face of a stand-alone trustee: ``POST /partials`` answers one decryption request;
``POST /approvals`` decides on a warrant (``approval.py``); ``POST /dkg/{epoch}/{phase}`` takes
part in an epoch's DKG (``dkg.py``); ``POST /epochs/{epoch}/destroy`` destroys this trustee's share
once its own retention rule allows (``destruction.py``); ``GET /key`` shows the public identity
and box keys.

Request (JSON, ``Authorization: Bearer <operator token>``)::

    {"request": <access.wire request>, "opening": <b64 WarrantOpening>,
     "logged": <access.wire LoggedRequest; only leaf_index is used>}

The trustee reads the platform's log itself (``PlatformLog``), so the request's entry, the
checkpoint, the witness quorum, the registration and approvals, the usage quota and the epoch key
all come from its own verified copy; the opening must match the logged ``WarrantRegistered``
commitment and carry a valid signature by a judge key registered in the log. Answer 200::

    {"trustee_id", "trustee_index", "partial": <b64 TrusteePartial>, "entry": <PartialsIssued>}

Errors are ``{"code", "message"}``: 401 ``unauthorized``, 400 ``malformed``, 409
``request_refused`` (a check failed), 502 ``log_unverified`` (the log could not be read or does
not verify under the pinned keys), 409 ``no_share`` (no share for the epoch) and 410
``share_destroyed`` (this trustee destroyed it). The DKG routes answer 409 ``dkg_refused`` (bad
roster, session or phase; the epoch is already keyed in the log; the log cannot be read),
``window_refused`` (the validity window is not the epoch's under this trustee's epoch length, or
overlaps a logged epoch) or ``dkg_failed`` (fewer than t dealers qualified); ``/approvals`` 400
``malformed`` or 502 ``log_unverified``. ``/epochs/{epoch}/destroy`` answers 200 with the signed
statement (``SignedDestruction.to_json``; the same one again after), 409 ``retention_not_over`` or
``no_share``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from fulcrum.access import (
    AccessError,
    RequestRefused,
    answer_request,
    find_registration,
    judge_keys_from_log,
    partials_entry,
    verify_opening,
    verify_warrant,
)
from fulcrum.access.policy import ScopePolicy, default_policy
from fulcrum.access.wire import (
    logged_from_json,
    opening_from_json,
    partial_to_json,
    request_from_json,
)
from fulcrum.escrow import EscrowError
from fulcrum.escrow.errors import DkgError
from fulcrum.hazmat.ristretto import Point
from fulcrum.translog import EpochKey
from fulcrum.trustee.approval import ApprovalFailure, decide_remote
from fulcrum.trustee.destruction import DestructionRefused, EpochRules, destroy_own_share
from fulcrum.trustee.dkg import DkgRefused, TrusteeDkg, WindowRefused
from fulcrum.trustee.evidence import EvidenceError, PlatformLog
from fulcrum.trustee.keystore import TrusteeKeyStore

PARTIALS_PATH = "/partials"
DEFAULT_RULES = EpochRules(epoch_seconds=7 * 86400, retention_seconds=90 * 86400)
APPROVALS_PATH = "/approvals"
MAX_BODY = 4 * 1024 * 1024


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TrusteeFailure(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _fail(exc: TrusteeFailure) -> JSONResponse:
    return JSONResponse({"code": exc.code, "message": exc.message}, exc.status)


def answer(
    store: TrusteeKeyStore, log: PlatformLog, body: dict[str, Any], now: int
) -> dict[str, Any]:
    """Check and answer one request (blocking: reads the platform's log)."""
    try:
        request = request_from_json(body["request"])
        opening = opening_from_json(body["opening"])
        leaf_index = logged_from_json(body["logged"]).leaf_index
    except (KeyError, TypeError, AccessError) as exc:
        raise TrusteeFailure(400, "malformed", f"malformed request body: {exc}") from exc
    try:
        view = log.fetch(leaf_index)
        epoch_key = Point.from_bytes(view.epoch_key(request.epoch))
    except (EvidenceError, ValueError, EscrowError) as exc:
        raise TrusteeFailure(502, "log_unverified", str(exc)) from exc
    if store.is_destroyed(request.epoch):
        why = f"{store.name} destroyed its share for epoch {request.epoch}"
        raise TrusteeFailure(410, "share_destroyed", why)
    registered = find_registration(view.entries, opening.signed.warrant.warrant_id)
    if registered is None or not verify_opening(opening, registered):
        raise TrusteeFailure(409, "request_refused", "the warrant opening does not match the log")
    try:
        verify_warrant(opening.signed, judge_keys_from_log(view.entries))
    except AccessError as exc:
        raise TrusteeFailure(409, "request_refused", f"judge signature: {exc}") from exc
    try:
        share = store.share(request.epoch)
    except EscrowError as exc:
        raise TrusteeFailure(409, "no_share", str(exc)) from exc
    try:
        partial = answer_request(request, opening, view.logged, log.trust, share, epoch_key,
                                 log_entries=view.entries, now=now)  # fmt: skip
    except RequestRefused as exc:
        raise TrusteeFailure(409, "request_refused", str(exc)) from exc
    except (AccessError, EscrowError) as exc:
        raise TrusteeFailure(409, "request_refused", str(exc)) from exc
    entry = partials_entry(request, partial, store.name, now)
    return {
        "trustee_id": store.name,
        "trustee_index": partial.trustee_index,
        "partial": partial_to_json(partial),
        "entry": entry.to_dict(),
    }


def run_dkg_phase(dkg: TrusteeDkg, epoch: int, phase: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return dkg.handle(epoch, phase, body)
    except WindowRefused as exc:
        raise TrusteeFailure(409, "window_refused", str(exc)) from exc
    except DkgRefused as exc:
        raise TrusteeFailure(409, "dkg_refused", str(exc)) from exc
    except DkgError as exc:
        raise TrusteeFailure(409, "dkg_failed", str(exc)) from exc


def run_destroy(
    store: TrusteeKeyStore, log: PlatformLog, rules: EpochRules, epoch: int, now: int
) -> dict[str, Any]:
    """Destroy this trustee's share of ``epoch`` under its own rules and clock (blocking)."""
    window = None
    if store.window(epoch) is None and store.has_share(epoch):  # a share saved without one
        try:
            keys = [e for e in log.snapshot() if isinstance(e, EpochKey) and e.epoch == epoch]
        except EvidenceError as exc:
            raise TrusteeFailure(502, "log_unverified", str(exc)) from exc
        window = (keys[-1].valid_from, keys[-1].valid_until) if keys else None
    try:
        return destroy_own_share(store, epoch, rules, now, window=window).to_json()
    except DestructionRefused as exc:
        raise TrusteeFailure(409, exc.code, str(exc)) from exc


def run_approval(
    store: TrusteeKeyStore, log: PlatformLog, policy: ScopePolicy, body: dict[str, Any], now: int
) -> dict[str, Any]:
    try:
        return decide_remote(store, log, policy, body, now)
    except ApprovalFailure as exc:
        status = 502 if exc.code == "log_unverified" else 400
        raise TrusteeFailure(status, exc.code, str(exc)) from exc


def create_trustee_app(
    store: TrusteeKeyStore,
    log: PlatformLog,
    token_sha256: str,
    *,
    clock: Callable[[], float] = time.time,
    policy: ScopePolicy | None = None,
    dkg: TrusteeDkg | None = None,
    rules: EpochRules = DEFAULT_RULES,
) -> FastAPI:
    """The trustee's app: ``POST /partials``, ``/approvals``, ``/dkg/{epoch}/{phase}`` and
    ``/epochs/{epoch}/destroy`` (operator token) and ``GET /key`` (public keys). ``policy`` is
    this trustee's scope policy (default: ``default_policy()``), ``rules`` its epoch length and
    retention; ``dkg`` its DKG sessions (``app.state.dkg``; default: checked against ``rules``
    and ``log``)."""
    app = FastAPI(title="Fulcrum trustee", openapi_url=None, docs_url=None, redoc_url=None)
    expected = token_sha256.lower().encode("ascii")
    scope = policy if policy is not None else default_policy()
    sessions = dkg if dkg is not None else TrusteeDkg(store, rules=rules, log=log)
    app.state.dkg = sessions

    @app.get("/key")
    def key() -> JSONResponse:
        return JSONResponse({"trustee_id": store.name, **sessions.roster_entry().to_json()})

    async def authorized_body(request: Request) -> dict[str, Any]:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        given = token_hash(token.strip()).encode("ascii")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given, expected):
            raise TrusteeFailure(401, "unauthorized", "missing or wrong operator token")
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise TrusteeFailure(413, "too_large", "request body too large")
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
        except ValueError as exc:
            raise TrusteeFailure(400, "malformed", f"body is not JSON: {exc}") from exc
        return body

    @app.post(PARTIALS_PATH)
    async def partials(request: Request) -> JSONResponse:
        try:
            body = await authorized_body(request)
            out = await run_in_threadpool(answer, store, log, body, int(clock()))
        except TrusteeFailure as exc:
            return _fail(exc)
        return JSONResponse(out)

    @app.post(APPROVALS_PATH)
    async def approvals(request: Request) -> JSONResponse:
        try:
            body = await authorized_body(request)
            out = await run_in_threadpool(run_approval, store, log, scope, body, int(clock()))
        except TrusteeFailure as exc:
            return _fail(exc)
        return JSONResponse(out)

    @app.post("/dkg/{epoch}/{phase}")
    async def dkg_phase(epoch: int, phase: str, request: Request) -> JSONResponse:
        try:
            body = await authorized_body(request)
            if not 0 <= epoch < 2**53:
                raise TrusteeFailure(400, "malformed", "epoch out of range")
            out = await run_in_threadpool(run_dkg_phase, sessions, epoch, phase, body)
        except TrusteeFailure as exc:
            return _fail(exc)
        return JSONResponse(out)

    @app.post("/epochs/{epoch}/destroy")
    async def destroy(epoch: int, request: Request) -> JSONResponse:
        try:
            await authorized_body(request)
            if not 0 <= epoch < 2**53:
                raise TrusteeFailure(400, "malformed", "epoch out of range")
            out = await run_in_threadpool(run_destroy, store, log, rules, epoch, int(clock()))
        except TrusteeFailure as exc:
            return _fail(exc)
        return JSONResponse(out)

    return app

"""HTTP face of a stand-alone trustee: ``POST /partials`` answers one decryption request.

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
not verify under the pinned keys), 409 ``no_share`` (no share for the epoch, or it was destroyed).
"""

from __future__ import annotations

import hashlib
import hmac
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
from fulcrum.access.wire import (
    logged_from_json,
    opening_from_json,
    partial_to_json,
    request_from_json,
)
from fulcrum.escrow import EscrowError
from fulcrum.hazmat.ristretto import Point
from fulcrum.server.escrow.keystore import TrusteeKeyStore
from fulcrum.trustee.evidence import EvidenceError, PlatformLog

PARTIALS_PATH = "/partials"
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


def create_trustee_app(
    store: TrusteeKeyStore,
    log: PlatformLog,
    token_sha256: str,
    *,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The trustee's app: ``POST /partials`` (operator token) and ``GET /key`` (identity key)."""
    app = FastAPI(title="Fulcrum trustee", openapi_url=None, docs_url=None, redoc_url=None)
    expected = token_sha256.lower().encode("ascii")

    @app.get("/key")
    def key() -> JSONResponse:
        from fulcrum.encoding import b64e

        raw = store.identity().public_key().raw
        return JSONResponse({"trustee_id": store.name, "identity_key": b64e(raw)})

    @app.post(PARTIALS_PATH)
    async def partials(request: Request) -> JSONResponse:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        given = token_hash(token.strip()).encode("ascii")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given, expected):
            return _fail(TrusteeFailure(401, "unauthorized", "missing or wrong operator token"))
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return _fail(TrusteeFailure(413, "too_large", "request body too large"))
        try:
            import json

            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
        except ValueError as exc:
            return _fail(TrusteeFailure(400, "malformed", f"body is not JSON: {exc}"))
        try:
            out = await run_in_threadpool(answer, store, log, body, int(clock()))
        except TrusteeFailure as exc:
            return _fail(exc)
        return JSONResponse(out)

    return app

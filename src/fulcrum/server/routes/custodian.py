"""The custodian role (organisation O): VOPRF batch evaluation, the current signed manifest and
the tag-table export for the platform.

Evaluation and export answer only the operator token from ``<data_dir>/custodian/secrets.json``
(the platform presents it); the manifest is public. Bodies are the canonical binary frames of
``fulcrum.matching.wire`` (``application/octet-stream``) and the manifest's canonical JSON.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials

from fulcrum.matching import BankManifest
from fulcrum.matching.errors import MatchingError
from fulcrum.server.auth import bearer
from fulcrum.server.custodian import CustodianState, NoRelease
from fulcrum.server.errors import ApiError, error_responses, unauthorized
from fulcrum.server.state import relay_state

MAX_REQUEST_BYTES = 14 + 2 * 0xFFFF * 32
_BINARY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_BINARY_OUT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}
}


def custodian_state(app: Any) -> CustodianState:
    """The process's custodian state (created on first use under ``<data_dir>/custodian``)."""
    state = relay_state(app)
    found = state.features.get("custodian")
    if found is None:
        found = CustodianState(state.settings.data_dir / "custodian")
        found.on_publish.append(lambda manifest: _log_manifest(app, manifest))
        state.features["custodian"] = found
    assert isinstance(found, CustodianState)
    return found


def _log_manifest(app: Any, manifest: BankManifest) -> None:
    """With the platform in this process, append the new manifest to its transparency log."""
    matching = relay_state(app).features.get("matching")
    manifest_log = getattr(matching, "manifest_log", None)
    if manifest_log is not None:
        manifest_log.record(manifest)


def _operator(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
) -> None:
    expected = custodian_state(request.app).operator_token
    if credentials is None or not hmac.compare_digest(
        credentials.credentials.encode(), expected.encode()
    ):
        raise unauthorized("the custodian's operator token is required")


def no_manifest(exc: NoRelease) -> ApiError:
    return ApiError(404, "no_manifest", str(exc))


async def read_limited(request: Request, limit: int = MAX_REQUEST_BYTES) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"requests are limited to {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def build_router() -> APIRouter:
    router = APIRouter(tags=["custodian"])

    @router.get(
        "/custodian/manifest",
        response_class=Response,
        responses={
            200: {"content": {"application/json": {"schema": {"type": "object"}}}},
            **error_responses(404),
        },
    )
    def custodian_manifest(request: Request) -> Response:
        """The current signed bank manifest (canonical JSON, as logged)."""
        try:
            body = custodian_state(request.app).manifest_bytes()
        except NoRelease as exc:
            raise no_manifest(exc) from exc
        return Response(content=body, media_type="application/json")

    @router.post(
        "/custodian/evaluate",
        response_class=Response,
        dependencies=[Depends(_operator)],
        responses={**_BINARY_OUT, **error_responses(401, 404, 413)},
        openapi_extra=_BINARY,
    )
    async def custodian_evaluate(request: Request) -> Response:
        """Evaluate a blinded batch (``FMEQ`` frame) with this epoch's key; ``FMER`` + proof."""
        body = await read_limited(request)
        custodian = custodian_state(request.app)
        try:
            out = await run_in_threadpool(custodian.evaluate, body)
        except NoRelease as exc:
            raise no_manifest(exc) from exc
        except MatchingError as exc:
            raise ApiError(422, "invalid_evaluation_request", str(exc)) from exc
        return Response(content=out, media_type="application/octet-stream")

    @router.get(
        "/custodian/tag-table",
        response_class=Response,
        dependencies=[Depends(_operator)],
        responses={**_BINARY_OUT, **error_responses(401, 404)},
    )
    def custodian_tag_table(request: Request) -> Response:
        """The current epoch's tag table for the platform (operator token only)."""
        try:
            body = custodian_state(request.app).tag_table_bytes()
        except NoRelease as exc:
            raise no_manifest(exc) from exc
        return Response(content=body, media_type="application/octet-stream")

    return router

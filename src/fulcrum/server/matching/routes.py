"""Platform endpoints for clients: the custodian's manifest and the proxied VOPRF evaluation.

The platform only relays: it sees blinded elements and the custodian's evaluated elements and
proof, none of which reveal the image's hash or LSH keys."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from fulcrum.encoding import EncodingError, b64d
from fulcrum.matching.errors import ManifestError, VoucherFloodError, VoucherFormatError
from fulcrum.server.auth import authenticated_device
from fulcrum.server.errors import ApiError, error_responses
from fulcrum.server.matching.link import CustodianUnavailable
from fulcrum.server.matching.manifest_log import ManifestNotLogged
from fulcrum.server.matching.service import PlatformMatching
from fulcrum.server.routes.custodian import _BINARY, _BINARY_OUT, read_limited
from fulcrum.server.state import relay_state
from fulcrum.server.translog import CheckpointRefused
from fulcrum.store import DeviceRecord
from fulcrum.wire.matching import ManifestLogOut

router = APIRouter(tags=["matching"])
Caller = Depends(authenticated_device)


def matching_of(request: Request) -> PlatformMatching:
    found = relay_state(request.app).features.get("matching")
    if not isinstance(found, PlatformMatching):
        raise ApiError(404, "matching_unavailable", "private matching is not configured")
    return found


def _unavailable(exc: Exception) -> ApiError:
    return ApiError(404, "matching_unavailable", str(exc))


@router.get(
    "/matching/manifest",
    response_class=Response,
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}},
        **error_responses(404),
    },
)
def matching_manifest(request: Request) -> Response:
    """The custodian's current signed bank manifest; clients verify it against pinned keys."""
    matching = matching_of(request)
    try:
        raw, _ = matching.manifest()
    except (CustodianUnavailable, ManifestError) as exc:
        raise _unavailable(exc) from exc
    return Response(content=raw, media_type="application/json")


@router.get(
    "/matching/manifest/log",
    response_model=ManifestLogOut,
    responses=error_responses(404, 422, 503),
)
def matching_manifest_log(
    request: Request, digest: str = Query(description="the manifest's core digest, base64url")
) -> ManifestLogOut:
    """A bank manifest's transparency-log entry, inclusion proof and cosigned checkpoint."""
    matching = matching_of(request)
    try:
        wanted = b64d(digest, length=32)
    except EncodingError as exc:
        raise ApiError(422, "invalid_digest", "digest must be 32 bytes, base64url") from exc
    if matching.manifest_log is None:
        raise ApiError(404, "manifest_not_logged", "this platform keeps no transparency log")
    try:
        return matching.manifest_log.evidence(wanted)
    except ManifestNotLogged as exc:
        raise ApiError(404, "manifest_not_logged", str(exc)) from exc
    except CheckpointRefused as exc:
        raise ApiError(503, "checkpoint_refused", str(exc)) from exc


@router.post(
    "/matching/evaluate",
    response_class=Response,
    responses={**_BINARY_OUT, **error_responses(401, 404, 413, 429)},
    openapi_extra=_BINARY,
)
async def matching_evaluate(request: Request, caller: DeviceRecord = Caller) -> Response:
    """Relay a blinded batch (``FMEQ``) to the custodian; returns its ``FMER`` frame + proof."""
    matching = matching_of(request)
    body = await read_limited(request)
    try:
        out = await run_in_threadpool(matching.evaluate, caller.account, body, time.time())
    except VoucherFloodError as exc:
        raise ApiError(429, "voucher_flood", str(exc)) from exc
    except VoucherFormatError as exc:
        raise ApiError(422, "invalid_evaluation_request", str(exc)) from exc
    except CustodianUnavailable as exc:
        raise _unavailable(exc) from exc
    return Response(content=out, media_type="application/octet-stream")

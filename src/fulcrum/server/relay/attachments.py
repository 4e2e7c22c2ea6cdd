"""Attachment ciphertexts: upload (size-limited) and download (uploader or recipients only)."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from fulcrum.server.auth import authenticated_device
from fulcrum.server.errors import ApiError, error_responses, not_found
from fulcrum.server.relay.common import now_ms, state_of
from fulcrum.store import AttachmentStore, DeviceRecord
from fulcrum.wire.api import AttachmentUploaded

router = APIRouter(tags=["attachments"])
Caller = Depends(authenticated_device)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"attachments are limited to {limit} bytes")


@router.post(
    "/attachments",
    status_code=201,
    response_model=AttachmentUploaded,
    responses=error_responses(401, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload_attachment(request: Request, caller: DeviceRecord = Caller) -> AttachmentUploaded:
    """Store an encrypted attachment (raw ``application/octet-stream`` ciphertext)."""
    state = state_of(request)
    limit = state.settings.max_attachment_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    blob = b"".join(chunks)
    digest = hashlib.sha256(blob).hexdigest()
    attachment_id = secrets.token_urlsafe(16)

    def store() -> None:
        with state.db.write() as session:
            AttachmentStore(session).put(
                attachment_id=attachment_id,
                uploader_account=caller.account,
                uploader_device=caller.id,
                blob=blob,
                sha256=digest,
                created_at=now_ms(),
            )

    await run_in_threadpool(store)
    return AttachmentUploaded(attachment_id=attachment_id, size=len(blob), sha256=digest)


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}},
        **error_responses(401, 404),
    },
)
def download_attachment(
    attachment_id: str, request: Request, caller: DeviceRecord = Caller
) -> Response:
    """The ciphertext, for its uploader's account or an account that was sent a message
    referencing it; 404 for everyone else (existence is not revealed)."""
    with state_of(request).db.read() as session:
        store = AttachmentStore(session)
        if store.readable_by(attachment_id, caller.account) is None:
            raise not_found("no such attachment")
        blob = store.blob(attachment_id)
    return Response(content=blob, media_type="application/octet-stream")

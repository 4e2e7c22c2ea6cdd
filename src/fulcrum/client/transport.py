"""Async HTTP transport to a Fulcrum server, with retry and exponential backoff.

Retries only what is safe to repeat: every request here is idempotent (sends are idempotent on
message id, acks on sequence numbers, claims hand out a fresh key each time at worst).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from fulcrum.wire import api

Model = TypeVar("Model", bound=BaseModel)

RETRY_STATUSES = {429, 502, 503, 504}


class ApiError(Exception):
    """The server refused a request with a typed error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ServerUnreachable(Exception):
    """The server could not be reached after retrying."""


class HttpTransport:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        attempts: int = 6,
        backoff: float = 0.1,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.attempts = attempts
        self.backoff = backoff
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    def __repr__(self) -> str:
        return f"HttpTransport({self.base_url!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = self._headers()
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        delay = self.backoff
        last: Exception | None = None
        for attempt in range(self.attempts):
            try:
                response = await self._client.request(
                    method, path, json=json, content=content, params=params, headers=headers
                )
            except httpx.TransportError as exc:
                last = exc
            else:
                if response.status_code not in RETRY_STATUSES:
                    if response.status_code >= 400:
                        raise _api_error(response)
                    return response
                last = _api_error(response)
            if attempt + 1 < self.attempts:
                await asyncio.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 5.0)
        raise ServerUnreachable(f"{method} {path} failed after {self.attempts} attempts: {last}")

    async def call(
        self,
        method: str,
        path: str,
        model: type[Model],
        *,
        body: BaseModel | None = None,
        params: dict[str, Any] | None = None,
    ) -> Model:
        response = await self.request(
            method,
            api.API_PREFIX + path,
            json=None if body is None else body.model_dump(mode="json"),
            params=params,
        )
        return model.model_validate(response.json())

    # --- typed endpoints ----------------------------------------------------------------------

    async def create_account(self, body: api.AccountCreate) -> api.DeviceRegistered:
        return await self.call("POST", "/accounts", api.DeviceRegistered, body=body)

    async def add_device(self, body: api.DeviceAdd) -> api.DeviceRegistered:
        return await self.call("POST", "/devices", api.DeviceRegistered, body=body)

    async def devices(self, account: str) -> api.AccountDevices:
        return await self.call("GET", f"/accounts/{account}/devices", api.AccountDevices)

    async def claim_keys(self, body: api.KeyClaimRequest) -> api.KeyClaimResponse:
        return await self.call("POST", "/keys/claim", api.KeyClaimResponse, body=body)

    async def upload_keys(self, body: api.OneTimeKeysUpload) -> api.KeyCount:
        return await self.call("POST", "/keys/upload", api.KeyCount, body=body)

    async def key_count(self) -> api.KeyCount:
        return await self.call("GET", "/keys/count", api.KeyCount)

    async def send(self, body: api.EnvelopeIn) -> api.SendReceipt:
        return await self.call("POST", "/messages", api.SendReceipt, body=body)

    async def queue(self, after: int = 0, limit: int = 100) -> api.QueuePage:
        return await self.call(
            "GET", "/queue", api.QueuePage, params={"after": after, "limit": limit}
        )

    async def ack(self, seqs: list[int]) -> api.AckResponse:
        return await self.call(
            "POST", "/queue/ack", api.AckResponse, body=api.AckRequest(seqs=seqs)
        )

    async def upload_attachment(self, ciphertext: bytes) -> api.AttachmentUploaded:
        response = await self.request("POST", api.API_PREFIX + "/attachments", content=ciphertext)
        return api.AttachmentUploaded.model_validate(response.json())

    async def download_attachment(self, attachment_id: str) -> bytes:
        response = await self.request("GET", f"{api.API_PREFIX}/attachments/{attachment_id}")
        return response.content

    async def create_group(self, body: api.GroupCreate) -> api.GroupInfo:
        return await self.call("POST", "/groups", api.GroupInfo, body=body)

    async def group(self, group_id: str) -> api.GroupInfo:
        return await self.call("GET", f"/groups/{group_id}", api.GroupInfo)

    async def change_members(self, group_id: str, body: api.MembershipChange) -> api.GroupInfo:
        return await self.call("POST", f"/groups/{group_id}/members", api.GroupInfo, body=body)


def _api_error(response: httpx.Response) -> ApiError:
    try:
        detail = api.ErrorBody.model_validate(response.json()).error
        return ApiError(response.status_code, detail.code, detail.message)
    except ValueError:
        return ApiError(response.status_code, "http_error", response.reason_phrase)

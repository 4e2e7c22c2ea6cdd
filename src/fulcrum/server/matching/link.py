"""How the platform reaches the custodian: in-process (tests, demo, one-box deployments) or
over HTTP to a separate ``fulcrum custodian serve`` with the operator token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import httpx

from fulcrum.matching import TagTable
from fulcrum.matching.errors import MatchingError, VoucherFormatError
from fulcrum.server.custodian import CustodianState, NoRelease
from fulcrum.wire.api import API_PREFIX


class CustodianUnavailable(MatchingError):
    """The custodian could not be reached or has published nothing."""


class CustodianLink(Protocol):
    def manifest_bytes(self) -> bytes:
        """The current signed manifest (canonical JSON); ``CustodianUnavailable`` if none."""

    def evaluate(self, request: bytes) -> bytes:
        """Relay one blinded batch; ``VoucherFormatError`` if the custodian refuses it."""

    def tag_table(self) -> TagTable:
        """The current epoch's tag table."""


class InProcessCustodian:
    """The custodian role runs in this process: call its state directly."""

    def __init__(self, state: Callable[[], CustodianState]) -> None:
        self._state = state

    def manifest_bytes(self) -> bytes:
        try:
            return self._state().manifest_bytes()
        except NoRelease as exc:
            raise CustodianUnavailable(str(exc)) from exc

    def evaluate(self, request: bytes) -> bytes:
        try:
            return self._state().evaluate(request)
        except NoRelease as exc:
            raise CustodianUnavailable(str(exc)) from exc

    def tag_table(self) -> TagTable:
        try:
            return self._state().tag_table()
        except NoRelease as exc:
            raise CustodianUnavailable(str(exc)) from exc


class RemoteCustodian:
    """A custodian process reached over HTTP (``FULCRUM_MATCHING_CUSTODIAN_URL`` and
    ``FULCRUM_MATCHING_CUSTODIAN_TOKEN``)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + API_PREFIX,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
        )

    def __repr__(self) -> str:
        return f"RemoteCustodian({str(self._client.base_url)!r})"

    def _call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        try:
            response = self._client.request(
                method,
                path,
                content=body,
                headers={"Content-Type": "application/octet-stream"} if body else None,
            )
        except httpx.HTTPError as exc:
            raise CustodianUnavailable(f"custodian unreachable: {type(exc).__name__}") from exc
        if response.status_code == 422:
            raise VoucherFormatError("the custodian refused the evaluation request")
        if response.status_code != 200:
            raise CustodianUnavailable(f"custodian answered HTTP {response.status_code}")
        return response.content

    def manifest_bytes(self) -> bytes:
        return self._call("GET", "/custodian/manifest")

    def evaluate(self, request: bytes) -> bytes:
        return self._call("POST", "/custodian/evaluate", request)

    def tag_table(self) -> TagTable:
        return TagTable.from_bytes(self._call("GET", "/custodian/tag-table"))

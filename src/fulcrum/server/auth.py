"""Device authentication: bearer tokens, stored server-side only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fulcrum.server.errors import forbidden, unauthorized
from fulcrum.server.state import RelayState, relay_state
from fulcrum.store import AccountDirectory, DeviceRecord

bearer = HTTPBearer(auto_error=False, description="A device token from DeviceRegistered")


def new_token() -> tuple[str, str]:
    """A fresh bearer token and the hash that is stored instead of it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_device_id() -> str:
    return secrets.token_urlsafe(16)


class TokenCache:
    """A short-lived map token-hash -> device, so the hot path skips one query per request."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[str, tuple[float, DeviceRecord]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> DeviceRecord | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, device: DeviceRecord) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) > 100_000:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl, device)


def _lookup(state: RelayState, key: str) -> DeviceRecord | None:
    with state.db.read() as session:
        device = AccountDirectory(session).device_for_token(key)
    if device is not None:
        state.tokens.put(key, device)
    return device


def device_for_token(state: RelayState, token: str) -> DeviceRecord | None:
    key = token_hash(token)
    cached = state.tokens.get(key)
    return cached if cached is not None else _lookup(state, key)


async def authenticated_device(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
) -> DeviceRecord:
    """FastAPI dependency: the calling device, or 401.

    Async so a token-cache hit costs no worker-thread hop; a miss reads the database on one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    state = relay_state(request.app)
    key = token_hash(credentials.credentials)
    device = state.tokens.get(key)
    if device is None:
        device = await run_in_threadpool(_lookup, state, key)
    if device is None:
        raise unauthorized()
    if device.suspended:
        raise forbidden("account suspended")
    request.state.account = device.account
    request.state.device = device.id
    return device

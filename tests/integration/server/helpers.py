"""Test clients for the relay: fake devices with real Ed25519 keys, envelope builders."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select

from fulcrum.encoding import b64e
from fulcrum.hazmat.signing import SigningKey
from fulcrum.store import Database
from fulcrum.store.models import Base
from fulcrum.wire.statements import device_key_statement


def std_b64(raw: bytes) -> str:
    """vodozemac's key encoding: standard base64 without padding."""
    return base64.b64encode(raw).decode().rstrip("=")


def fake_key() -> str:
    return std_b64(secrets.token_bytes(32))


def device_keys(account: str, *, otks: int = 3, fallback: bool = True) -> dict[str, Any]:
    sk = SigningKey.generate()
    identity, signing = fake_key(), std_b64(sk.public_key().raw)
    statement = device_key_statement(account, identity, signing)
    return {
        "identity_key": identity,
        "signing_key": signing,
        "one_time_keys": {f"otk{i}": fake_key() for i in range(otks)},
        "fallback_key": {"fb0": fake_key()} if fallback else None,
        "signature": std_b64(sk.sign(statement)),
    }


@dataclass
class Dev:
    account: str
    device_id: str
    token: str = field(repr=False)
    client: httpx.AsyncClient = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.post(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.delete(
            path, headers={**self.headers, **kw.pop("headers", {})}, **kw
        )


async def register(
    client: httpx.AsyncClient, name: str, birth_year: int | None = 1990, **kw: Any
) -> Dev:
    """Register ``name`` (an adult unless ``birth_year`` says otherwise; None = unknown age)."""
    body = {"name": name, "birth_year": birth_year, "device": device_keys(name, **kw)}
    r = await client.post("/v1/accounts", json=body)
    assert r.status_code == 201, r.text
    body = r.json()
    return Dev(name, body["device_id"], body["token"], client)


async def add_device(dev: Dev) -> Dev:
    r = await dev.post("/v1/devices", json={"device": device_keys(dev.account)})
    assert r.status_code == 201, r.text
    body = r.json()
    return Dev(dev.account, body["device_id"], body["token"], dev.client)


def msg_id() -> str:
    return b64e(secrets.token_bytes(16))


def dm_conv(a: str, b: str) -> str:
    x, y = sorted((a, b))
    return f"dm:{x}:{y}"


def dm_envelope(sender: Dev, to: list[Dev], body: bytes = b"ciphertext", **extra: Any) -> dict:
    others = {d.account for d in to} - {sender.account}
    peer = next(iter(others)) if others else sender.account
    env: dict[str, Any] = {
        "msg_id": msg_id(),
        "conv": dm_conv(sender.account, peer),
        "body": b64e(body),
        "commitment": b64e(secrets.token_bytes(32)),  # franking: every message is committed
        "recipients": [
            {"account": d.account, "device_id": d.device_id, "type": 0, "body": b64e(b"olm")}
            for d in to
        ],
    }
    env.update(extra)
    return env


def group_envelope(group_id: str, epoch: int, body: bytes = b"megolm-body", **extra: Any) -> dict:
    env: dict[str, Any] = {
        "msg_id": msg_id(),
        "conv": f"group:{group_id}",
        "body": b64e(body),
        "commitment": b64e(secrets.token_bytes(32)),  # franking: every message is committed
        "group": {"group_id": group_id, "membership_epoch": epoch},
        "group_ratchet": b64e(b"megolm-ratchet"),
    }
    env.update(extra)
    return env


def row_counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in Base.metadata.tables.items()
        }


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    if code is not None:
        assert body["error"]["code"] == code, body

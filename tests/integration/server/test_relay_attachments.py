from __future__ import annotations

import hashlib

import pytest

from fulcrum.server.state import RelayState

from .helpers import assert_error, dm_envelope, register, row_counts

pytestmark = pytest.mark.integration
OCTET = {"Content-Type": "application/octet-stream"}


async def test_upload_download_and_access(api, relay: RelayState):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    carol = await register(api, "carol")
    blob = b"\x00encrypted attachment\xff" * 100
    r = await alice.post("/v1/attachments", content=blob, headers=OCTET)
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["size"] == len(blob) and up["sha256"] == hashlib.sha256(blob).hexdigest()
    att = up["attachment_id"]
    assert (await alice.get(f"/v1/attachments/{att}")).content == blob
    # before any message references it, only the uploader can read it
    assert_error(await bob.get(f"/v1/attachments/{att}"), 404, "not_found")
    assert_error(await bob.get("/v1/attachments/doesnotexist"), 404, "not_found")
    env = dm_envelope(alice, [bob], attachments=[att])
    assert (await alice.post("/v1/messages", json=env)).status_code == 200
    assert (await bob.get("/v1/attachments/" + att)).content == blob
    assert (await bob.get("/v1/queue")).json()["items"][0]["attachments"] == [att]
    assert_error(await carol.get(f"/v1/attachments/{att}"), 404, "not_found")
    assert_error(await api.get(f"/v1/attachments/{att}"), 401)
    # carol cannot reference an attachment she cannot read
    stolen = dm_envelope(carol, [bob], attachments=[att])
    assert_error(await carol.post("/v1/messages", json=stolen), 404)


async def test_too_large_refused(api, relay: RelayState):
    alice = await register(api, "alice")
    before = row_counts(relay.db)
    limit = relay.settings.max_attachment_bytes
    r = await alice.post("/v1/attachments", content=b"x" * (limit + 1), headers=OCTET)
    assert_error(r, 413, "too_large")

    async def chunks():
        for _ in range(limit // 1000 + 2):
            yield b"y" * 1000

    r = await alice.post("/v1/attachments", content=chunks(), headers=OCTET)
    assert_error(r, 413, "too_large")
    assert row_counts(relay.db) == before
    r = await alice.post("/v1/attachments", content=b"x" * limit, headers=OCTET)
    assert r.status_code == 201

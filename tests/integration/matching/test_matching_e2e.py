"""Private matching through the real client and server: vouchers on send, threshold, review."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.matching.conftest import THRESHOLD, Users, matching_of
from tests.unit.matching.world import TRANSFORMS, bank_images, generated, jpeg, sample

from fulcrum.client.core import ReceivedMessage
from fulcrum.client.matching_layer import ManifestRefused, pin_trust
from fulcrum.client.transport import ServerUnreachable
from fulcrum.hazmat.signing import SigningKey
from fulcrum.matching import ManifestTrust
from fulcrum.server.matching.service import RateLimiter
from fulcrum.server.routes.custodian import custodian_state
from fulcrum.store.matching import MatchLedger

pytestmark = pytest.mark.integration


def _write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _shape(value: object) -> object:
    """Keys, types and lengths: what a client could compare between two receipts."""
    if isinstance(value, dict):
        return tuple(sorted((k, _shape(v)) for k, v in value.items()))
    if isinstance(value, str):
        return ("str", len(value))
    return (type(value).__name__, value if isinstance(value, bool) or value is None else 0)


def _released(users: Users, account: str) -> list[str]:
    with users.server.app.state.fulcrum.db.read() as session:
        return sorted(r.image_id for r in MatchLedger(session).released(account))


def _matches(users: Users, account: str) -> int:
    with users.server.app.state.fulcrum.db.read() as session:
        return len(MatchLedger(session).for_account(account, 0))


async def test_edited_bank_images_match_past_threshold_only(users: Users, tmp_path: Path) -> None:
    alice = await users.user("alice")
    bob = await users.user("bob")
    images = bank_images()
    edits = ["jpeg_q70", "resize_50", "brightness", "caption", "border"]
    receipts = []
    # Unrelated images first: nothing is stored about them.
    for i, img in enumerate([sample("chelsea"), generated(7)]):
        path = _write(tmp_path, f"other{i}.jpg", jpeg(img))
        receipts.append(await alice.send_text("bob", "look", [path]))
    await alice.send_text("bob", "no image here")
    assert _matches(users, "alice") == 0
    # Edited copies of bank images: below the threshold nothing is released.
    sent_ids = []
    for i in range(THRESHOLD - 1):
        ext = ".png" if edits[i] == "border" else ".jpg"
        path = _write(tmp_path, f"edit{i}{ext}", TRANSFORMS[edits[i]](images[i]))
        receipt = await alice.send_text("bob", "look", [path])
        receipts.append(receipt)
        sent_ids.append(f"{receipt.msg_id}:0")
    assert _matches(users, "alice") == THRESHOLD - 1
    assert _released(users, "alice") == []
    # The threshold-th match releases exactly the matched images.
    for i in range(THRESHOLD - 1, 5):
        ext = ".png" if edits[i] == "border" else ".jpg"
        path = _write(tmp_path, f"edit{i}{ext}", TRANSFORMS[edits[i]](images[i]))
        receipt = await alice.send_text("bob", "look", [path])
        receipts.append(receipt)
        sent_ids.append(f"{receipt.msg_id}:0")
    assert _released(users, "alice") == sorted(sent_ids)
    # Receipts look the same for matching and non-matching images.
    shapes = {_shape(r.model_dump(exclude={"msg_id", "server_ts"})) for r in receipts}
    assert len(shapes) == 1
    # Bob gets every message; no vouchers are stored or delivered.
    got = [o for o in await bob.sync() if isinstance(o, ReceivedMessage)]
    assert len(got) == len(receipts) + 1
    page = await bob.transport.queue()
    assert all("vouchers" not in item.extensions for item in page.items)
    # Bob's account stays clean.
    assert _matches(users, "bob") == 0


async def test_manifest_not_verifying_is_refused(users: Users, tmp_path: Path) -> None:
    mallory_keys = ManifestTrust(
        SigningKey(b"\x09" * 32).public_key(), {"x": SigningKey(b"\x0a" * 32).public_key()}, 1
    )
    carol = await users.user("carol", pin=False)
    await users.user("dave")
    pin_trust(carol, mallory_keys)
    path = _write(tmp_path, "a.jpg", jpeg(generated(3)))
    with pytest.raises(ManifestRefused):
        await carol.send_text("dave", "hi", [path])
    unpinned = await users.user("erin", pin=False)
    with pytest.raises(ManifestRefused):
        await unpinned.send_text("dave", "hi", [path])
    # Text still goes: no manifest is needed without images.
    await carol.send_text("dave", "plain text is fine")


async def test_single_source_entry_is_refused(users: Users) -> None:
    custodian = custodian_state(users.server.app)
    from fulcrum.matching.pdq import hash_pil
    from fulcrum.server.custodian import parse_hash_file

    text = hash_pil(sample("moon")).hex + "\tmoon-1\n"
    report = custodian.import_listings("single", parse_hash_file(text, "hotline-c"))
    assert report.admitted == ()
    assert len(report.single_source) == 1
    assert custodian.stats()["single"]["refused_single_source"] == 1


async def test_voucher_flood_is_rate_limited(users: Users, tmp_path: Path) -> None:
    frank = await users.user("frank")
    await users.user("grace")
    frank.transport.attempts = 1
    matching = matching_of(users.server)
    before = matching.bundle_limit
    matching.bundle_limit = RateLimiter(2)
    try:
        paths = [_write(tmp_path, f"f{i}.jpg", jpeg(generated(20 + i))) for i in range(3)]
        await frank.send_text("grace", "one", paths[:2])
        with pytest.raises(ServerUnreachable, match="voucher_flood"):
            await frank.send_text("grace", "two", paths[2:])
    finally:
        matching.bundle_limit = before


async def test_manifest_not_in_the_log_is_refused(users: Users, tmp_path: Path) -> None:
    from fulcrum.client.matching_layer import pin_log_keys
    from fulcrum.matching import LogKeys
    from fulcrum.server.matching import ManifestLog
    from fulcrum.translog import CosignatureSigner, NoteSigner

    heidi = await users.user("heidi")
    await users.user("ivan")
    path = _write(tmp_path, "h.jpg", jpeg(generated(41)))
    # Logged: accepted, and the log keys are pinned on first use.
    await heidi.send_text("ivan", "logged", [path])
    pinned = heidi.core.layer_state["matching"]["log_keys"]
    assert len(pinned["witness_vkeys"]) == 3
    matching = matching_of(users.server)
    real_log = matching.manifest_log
    try:
        # The platform serves a manifest that is not in its log: refused, nothing sent.
        matching.manifest_log = ManifestLog(lambda: None)
        with pytest.raises(ManifestRefused, match="no log entry"):
            await heidi.send_text("ivan", "unlogged", [path])
    finally:
        matching.manifest_log = real_log
    # Evidence under a log key other than the pinned one: refused.
    judy = await users.user("judy")
    other = NoteSigner("fulcrum.example/log", SigningKey(b"\x0b" * 32)).verifier().vkey
    witnesses = tuple(
        CosignatureSigner(f"w{i}.example", SigningKey(bytes([12 + i]) * 32)).verifier().vkey
        for i in range(3)
    )
    pin_log_keys(judy, LogKeys(other, witnesses, 2))
    with pytest.raises(ManifestRefused, match="does not verify"):
        await judy.send_text("ivan", "wrong log", [path])
    await heidi.send_text("ivan", "logged again", [path])

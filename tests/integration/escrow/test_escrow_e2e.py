"""Escrow fields end to end: every message carries one, recipients verify it, clients refuse
epoch keys that are not signed by t trustees and logged under a witness-cosigned checkpoint."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.integration.client.conftest import PASS, World

from fulcrum.client.core import ReceivedMessage, Rejected
from fulcrum.client.escrow_keys import EpochKeyRefused, EscrowUnavailable
from fulcrum.client.escrow_layer import (
    DEV_OPT_OUT_ENV,
    NAME,
    NOT_VERIFIED,
    message_context,
    store_epoch_key,
)
from fulcrum.client.layers import OutgoingMessage
from fulcrum.client.sdk import FulcrumClient
from fulcrum.client.standard import standard_layers
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.escrow import EscrowContext, create_escrow_field
from fulcrum.hazmat.ristretto import Point, base_mul, random_scalar
from fulcrum.server.escrow import TrusteeCouncil

pytestmark = pytest.mark.integration


def council_of(server: EmbeddedServer) -> TrusteeCouncil:
    council = server.app.state.fulcrum.features["escrow"]
    assert isinstance(council, TrusteeCouncil)
    return council


def texts(outcomes: list[object]) -> list[str]:
    return [o.text for o in outcomes if isinstance(o, ReceivedMessage)]


def rejections(outcomes: list[object]) -> list[str]:
    return [o.reason for o in outcomes if isinstance(o, Rejected)]


async def test_every_message_carries_a_verified_field(world: World, tmp_path: Path) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    laptop = await bob.link_device(tmp_path / "bob-laptop", PASS, log2_n=10)
    world.clients.append(laptop)
    for i in range(3):
        receipt = await alice.send_text("bob", f"m{i}")
        assert receipt.msg_id
    await alice.create_group("club", ["bob"])
    await alice.send_group("club", "to the group")
    page = await bob.transport.queue(after=0, limit=100)
    fields = [i.escrow for i in page.items if i.kind == "message"]
    assert len(fields) == 4 and all(f is not None and len(f) == 192 for f in fields)
    assert all(i.escrow is None for i in page.items if i.kind == "control")
    assert texts(await bob.sync()) == ["m0", "m1", "m2", "to the group"]
    assert texts(await laptop.sync()) == ["m0", "m1", "m2", "to the group"]
    # bob's devices never sent: they fetched the epoch key when a message named it
    assert bob.core.layer_state[NAME]["verified"] == 4
    assert laptop.core.layer_state[NAME]["verified"] == 4
    assert "current" not in bob.core.layer_state[NAME]
    epoch = council_of(world.server).current().bundle.epoch
    assert set(bob.core.layer_state[NAME]["epochs"]) == {str(epoch)}


class Tamper:
    """A modified sender: replaces the escrow field after the honest layer made it."""

    name = "tamper"

    def __init__(self, how: str) -> None:
        self.how = how

    def on_send(self, message: OutgoingMessage, state: dict[str, Any]) -> None:
        epoch = message.layers[NAME]["epoch"]
        honest = message_context(message.header, epoch)
        if self.how == "missing":
            message.escrow = None
            del message.layers[NAME]
        elif self.how == "missing-field":
            message.escrow = None
        elif self.how == "random":
            message.escrow = secrets.token_bytes(144)
        elif self.how == "other-context":
            other = replace(honest, conv="dm:mallory:zed")
            message.escrow = create_escrow_field(message.k_m, other, _key(state)).to_bytes()
        elif self.how == "other-epoch-number":
            message.layers[NAME] = {"epoch": epoch + 1}
        elif self.how == "other-key":
            platform_key = base_mul(random_scalar())
            message.escrow = create_escrow_field(message.k_m, honest, platform_key).to_bytes()
        elif self.how == "other-k_m":
            message.escrow = create_escrow_field(
                secrets.token_bytes(32), honest, _key(state)
            ).to_bytes()


def _key(state: dict[str, Any]) -> Point:
    return Point.from_bytes(bytes(state["y"]))


TAMPERINGS = [
    "missing",
    "missing-field",
    "random",
    "other-context",
    "other-epoch-number",
    "other-key",
    "other-k_m",
]


async def test_recipient_hides_wrong_or_missing_fields(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    y = council_of(world.server).current().bundle.group_key.to_bytes()
    await alice.send_text("bob", "honest first")
    for how in TAMPERINGS:
        layers = standard_layers()
        tamper = Tamper(how)
        alice.install_layers([*layers.send, tamper], layers.receive)
        alice.core.layer_state["tamper"] = {"y": list(y)}
        await alice.send_text("bob", f"tampered {how}")
    alice.use_layers(standard_layers())
    await alice.send_text("bob", "honest last")
    outcomes = await bob.sync()
    assert texts(outcomes) == ["honest first", "honest last"]
    assert rejections(outcomes) == [NOT_VERIFIED] * len(TAMPERINGS)
    assert bob.core.layer_state[NAME]["failed"] == len(TAMPERINGS)
    assert all("tampered" not in h["text"] for h in bob.core.history)


async def test_a_field_for_an_epoch_not_valid_when_relayed_is_hidden(world: World) -> None:
    """A modified sender cannot pick an old epoch (whose shares may be destroyed)."""
    alice, bob = await world.user("alice"), await world.user("bob")
    council = council_of(world.server)
    old = council.ensure_epoch(council.current().bundle.epoch - 3).bundle  # logged, signed
    await alice.send_text("bob", "honest")
    state = alice.core.layer_state[NAME]
    store_epoch_key(state, old)
    state["current"] = old.epoch
    env = alice.core.compose_direct("bob", b"old epoch", alice.clock())
    await alice._send(env)
    outcomes = await bob.sync()
    assert texts(outcomes) == ["honest"]
    assert rejections(outcomes) == [NOT_VERIFIED]
    # bob fetched and accepted the old key (it is logged and signed) but not its use now
    assert str(old.epoch) in bob.core.layer_state[NAME]["epochs"]


def _patch_evidence(server: EmbeddedServer, change: Any) -> None:
    council = council_of(server)
    honest = council.evidence

    def evidence(record: Any) -> Any:
        return change(honest(record), council)

    council.evidence = evidence  # type: ignore[method-assign]


async def _refused(world: World, change: Any) -> str:
    _patch_evidence(world.server, change)
    alice = await world.user("alice")
    await world.user("bob")
    with pytest.raises(EpochKeyRefused) as err:
        await alice.send_text("bob", "never sent")
    assert alice.state.outbox == []
    return str(err.value)


def _with_key(evidence: Any, council: TrusteeCouncil, sign_with: int) -> Any:
    """A bundle for a platform-chosen key, signed by ``sign_with`` of the real trustees."""
    from fulcrum.encoding import b64d, b64e
    from fulcrum.escrow import EpochKeyBundle, run_dkg, sign_epoch_key_bundle
    from fulcrum.wire.translog import EpochKeySignatureOut

    real = EpochKeyBundle.from_bytes(b64d(evidence.bundle))
    fake = EpochKeyBundle.from_dkg(
        run_dkg(real.n, real.threshold, real.epoch)[0],
        valid_from=real.valid_from,
        valid_until=real.valid_until,
    )
    sigs = [
        sign_epoch_key_bundle(fake, i + 1, store.identity())
        for i, store in enumerate(council.stores[:sign_with])
    ]
    return evidence.model_copy(
        update={
            "bundle": b64e(fake.to_bytes()),
            "signatures": [
                EpochKeySignatureOut(trustee_index=s.trustee_index, signature=b64e(s.signature))
                for s in sigs
            ],
        }
    )


async def test_refuses_a_key_signed_by_trustees_but_not_in_the_log(world: World) -> None:
    def unlogged(ev: Any, c: TrusteeCouncil) -> Any:
        from fulcrum.encoding import b64d, b64e
        from fulcrum.escrow import EpochKeyBundle
        from fulcrum.server.escrow.council import EpochRecord, epoch_key_entry
        from fulcrum.translog import encode_entry

        forged = _with_key(ev, c, sign_with=5)  # all five real trustees signed it
        bundle = EpochKeyBundle.from_bytes(b64d(forged.bundle))
        record = EpochRecord(bundle, (), c.policy.trustees, (), 0)
        entry = encode_entry(epoch_key_entry(record, 1_700_000_000))
        return forged.model_copy(update={"entry": b64e(entry)})

    reason = await _refused(world, unlogged)
    assert "inclusion proof does not lead to the root hash" in reason


async def test_refuses_a_logged_entry_for_another_key(world: World) -> None:
    reason = await _refused(world, lambda ev, c: _with_key(ev, c, sign_with=5))
    assert "logged entry does not match" in reason


async def test_refuses_a_logged_key_with_too_few_trustee_signatures(world: World) -> None:
    reason = await _refused(
        world, lambda ev, c: ev.model_copy(update={"signatures": ev.signatures[:2]})
    )
    assert "2 valid trustee signatures, need 3" in reason


async def test_refuses_a_substituted_key(world: World) -> None:
    reason = await _refused(world, lambda ev, c: _with_key(ev, c, sign_with=0))
    assert "trustee signatures" in reason


async def test_refuses_an_index_beyond_the_checkpoint(world: World) -> None:
    def beyond(ev: Any, c: TrusteeCouncil) -> Any:
        return ev.model_copy(update={"log_index": ev.log_index + 1, "inclusion": []})

    assert "not in the checkpoint" in await _refused(world, beyond)


async def test_refuses_a_checkpoint_with_one_witness(world: World) -> None:
    def one_witness(ev: Any, c: TrusteeCouncil) -> Any:
        lines = ev.checkpoint.split("\n")
        # the note: text, blank line, log signature, then three witness cosignatures
        return ev.model_copy(update={"checkpoint": "\n".join(lines[:-3]) + "\n"})

    assert "witness cosignatures" in await _refused(world, one_witness)


async def test_refuses_changed_trustee_keys(world: World) -> None:
    alice, _ = await world.user("alice"), await world.user("bob")
    await alice.send_text("bob", "pins the trustees")
    state = alice.core.layer_state[NAME]
    keys = state["trustees"]["keys"]
    state["trustees"]["keys"] = [keys[1], keys[0], *keys[2:]]  # as if the platform swapped them
    state.pop("current")
    state["epochs"] = {}
    with pytest.raises(EpochKeyRefused, match="differ from the ones this device pinned"):
        await alice.send_text("bob", "refused")


async def test_client_clock_far_from_the_epoch_is_refused(world: World) -> None:
    alice, _ = await world.user("alice"), await world.user("bob")
    alice.clock = lambda: 4_000_000_000.0  # year 2096
    with pytest.raises(EpochKeyRefused, match="check the clock"):
        await alice.send_text("bob", "from the future")


async def test_server_without_escrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    srv = EmbeddedServer(tmp_path / "plain", escrow=False).start()
    world = World(srv, tmp_path / "homes")
    try:
        alice, bob = await world.user("alice"), await world.user("bob")
        with pytest.raises(EscrowUnavailable, match=DEV_OPT_OUT_ENV):
            await alice.send_text("bob", "refused")
        assert alice.state.outbox == []
        monkeypatch.setenv(DEV_OPT_OUT_ENV, "1")
        await alice.send_text("bob", "development only")
        assert texts(await bob.sync()) == ["development only"]
        await alice.send_text("bob", "opt-out sender")
        monkeypatch.setenv(DEV_OPT_OUT_ENV, "0")  # anything but "1" is off: bob hides it
        assert rejections(await bob.sync()) == [NOT_VERIFIED]
    finally:
        await world.close()
        srv.stop()


async def test_client_state_survives_reopen(world: World) -> None:
    alice, _ = await world.user("alice"), await world.user("bob")
    await alice.send_text("bob", "first")
    home, pinned = alice.home.path, dict(alice.core.layer_state[NAME])
    await alice.close()
    again = await FulcrumClient.open(home, PASS)
    world.clients.append(again)
    assert again.core.layer_state[NAME]["log"] == pinned["log"]
    assert again.core.layer_state[NAME]["trustees"] == pinned["trustees"]
    assert again.core.layer_state[NAME]["current"] == pinned["current"]


def test_context_matches_the_header() -> None:
    from fulcrum.e2ee import MessageHeader

    header = MessageHeader(
        "dm:alice:bob", "alice", "ADEV", ("alice/A2", "bob/BDEV"), "A" * 22, 1, "text/plain"
    )
    ctx = message_context(header, 7)
    assert ctx == EscrowContext.for_message(
        epoch=7,
        conv="dm:alice:bob",
        msg_id="A" * 22,
        sender="alice",
        sender_device="ADEV",
        recipient_devices=[("bob", "BDEV"), ("alice", "A2")],
        client_ts=1,
    )

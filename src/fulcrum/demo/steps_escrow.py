"""Demo step: trustees, a logged and cosigned epoch key, an escrow field on every message.

The demo server runs the in-process trustee council (policy n=5, t=3). The step shows the DKG
that keyed the current epoch and runs the next epoch's DKG ahead of time, checks that every
message the demo has exchanged so far carried an escrow field its recipients recomputed, shows a
modified sender's stripped and forged fields being hidden, and has an auditor mirror the log.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx

from fulcrum.cli.audit import PinnedKeys, mirror_and_audit
from fulcrum.client.core import ReceivedMessage, Rejected
from fulcrum.client.escrow_layer import NAME, NOT_VERIFIED
from fulcrum.client.layers import OutgoingMessage
from fulcrum.client.standard import standard_layers
from fulcrum.demo.runner import DemoWorld
from fulcrum.server.escrow import TrusteeCouncil
from fulcrum.translog import EpochKey, parse_entry, verify_cosigned_checkpoint


class ModifiedSender:
    """What a modified client would do: strip the escrow field, or replace it with noise."""

    name = "modified-sender"

    def __init__(self, how: str) -> None:
        self.how = how

    def on_send(self, message: OutgoingMessage, state: dict[str, Any]) -> None:
        if self.how == "strip":
            message.escrow = None
            message.layers.pop(NAME, None)
        else:
            message.escrow = secrets.token_bytes(144)


def _council(world: DemoWorld) -> TrusteeCouncil:
    council = world.server.app.state.fulcrum.features.get("escrow")
    if not isinstance(council, TrusteeCouncil):
        raise RuntimeError("the demo server runs no trustees")
    return council


async def step_escrow(world: DemoWorld) -> None:
    council = _council(world)
    log = council.log
    record = council.current()
    bundle = record.bundle
    world.check(
        f"{council.policy.n} trustees keyed epoch {bundle.epoch} (threshold "
        f"{council.policy.t}); each holds only its own share",
        bundle.n == council.policy.n and bundle.threshold == council.policy.t,
    )
    upcoming = await asyncio.to_thread(council.ensure_epoch, bundle.epoch + 1)
    world.check(
        "the trustees run the next epoch's DKG before it starts; its key is logged too",
        upcoming.log_index > record.log_index,
    )
    cp = log.checkpoint()
    cosigned = verify_cosigned_checkpoint(cp.note, log.verifier, log.witness_verifiers())
    logged = parse_entry(log.entries(record.log_index, record.log_index + 1)[0])
    world.check(
        "the epoch key is an EpochKey log entry in a checkpoint cosigned by >= 2 witnesses",
        isinstance(logged, EpochKey)
        and logged.public_key == bundle.group_key.to_bytes()
        and len(cosigned.witnesses) >= 2,
    )
    verified = sum(
        int(c.core.layer_state.get(NAME, {}).get("verified", 0)) for c in world.clients.values()
    )
    received = sum(
        1 for c in world.clients.values() for h in c.core.history if h["direction"] == "in"
    )
    world.check(
        f"every demo message so far carried an escrow field its recipients verified "
        f"({verified} fields verified, {received} messages displayed)",
        verified == received > 0,
    )
    world.facts["escrow_fields_verified"] = verified

    alice = world.clients["alice"]
    await world.received("bob")  # nothing pending
    for how, text in (("strip", "no escrow field"), ("forge", "a forged escrow field")):
        layers = standard_layers()
        alice.install_layers([*layers.send, ModifiedSender(how)], layers.receive)
        await alice.send_text("bob", f"a message with {text}")
    alice.use_layers(standard_layers())
    await alice.send_text("bob", "an honest message")
    outcomes = await world.sync("bob")
    shown = [o.text for o in outcomes if isinstance(o, ReceivedMessage)]
    hidden = [o.reason for o in outcomes if isinstance(o, Rejected)]
    world.check(
        "messages with a stripped or forged escrow field are not displayed",
        shown == ["an honest message"] and hidden == [NOT_VERIFIED, NOT_VERIFIED],
    )
    await world.received("bob-laptop")

    pins = PinnedKeys.from_json(alice.core.layer_state[NAME]["log"])

    def audit() -> Any:
        with httpx.Client() as http:
            return mirror_and_audit(http, world.server.url, pins, [])[0]

    report = await asyncio.to_thread(audit)
    world.check(
        f"an auditor mirrors the log ({report.entries} entries, "
        f"{report.counts.get('EpochKey', 0)} epoch keys) and finds nothing",
        report.ok and not report.findings and report.counts.get("EpochKey", 0) >= 2,
    )
    world.facts["escrow_epoch"] = bundle.epoch
    world.facts["log_entries_audited"] = report.entries

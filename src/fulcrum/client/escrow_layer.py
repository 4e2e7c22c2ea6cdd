"""Escrow fields on the client: every message carries one, and every recipient verifies it.

``EpochKeyPreparer`` (async, before a message is composed) makes sure this device holds a
verified epoch key for the current epoch, judged by the client's own clock: it fetches
``GET /v1/escrow/epoch-key`` and accepts the key only through ``escrow_keys.accept_epoch_key``
(>= t trustee signatures under the pinned trustee keys, an inclusion proof in a checkpoint signed
by the pinned log key and cosigned by >= 2 pinned witnesses). Accepted keys are cached per epoch;
a new one is fetched once the cached epoch has ended. Its ``prepare_receive`` hook fetches the key
of the epoch a received message names, so a device that never sent can verify too.

``EscrowSendLayer`` (pure) sets ``message.escrow`` = the 144-byte escrow field of ``K_m`` under
``Y_e`` for the message's context, puts the epoch number into ``message.layers["escrow"]`` and
``{"epoch", "client_ts"}`` into the clear envelope (``message.extensions["escrow"]``): the
platform needs both to rebuild ctx and the body's AAD under a warrant, and checks ``client_ts``
against its clock. ``EscrowReceiveLayer`` (pure) recomputes the field and byte-compares it; a
missing or wrong field, an unknown epoch, an epoch not valid when the relay accepted the message,
or a clear ``extensions["escrow"]`` that differs from the authenticated epoch and header time hides
the message (so a lying sender cannot make a displayed message unrecoverable).

A server without escrow answers 404 ``escrow_not_configured``: the client then refuses to send
(``EscrowUnavailable``) unless ``FULCRUM_DEV_NO_ESCROW=1`` is set (development only; never the
default). With that opt-out a message without any escrow field is also accepted on receive; a
field that is present is still verified.

Layer state (``core.layer_state["escrow"]``, JSON): ``log`` (pinned log + witness keys),
``trustees`` (pinned trustee names and keys), ``epochs`` ({epoch: {"group_key", "valid_from",
"valid_until"}} of accepted keys), ``current`` (the epoch used for sending), counters
``verified`` / ``failed``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fulcrum.client.escrow_keys import (
    EpochKeyRefused,
    EscrowUnavailable,
    LogRoots,
    TrusteeRoots,
    accept_epoch_key,
    offered_trustees,
)
from fulcrum.client.layers import IncomingMessage, OutgoingMessage
from fulcrum.client.transport import ApiError
from fulcrum.e2ee.content import AttachmentKey
from fulcrum.e2ee.payload import MessageHeader, RatchetPayload
from fulcrum.encoding import EncodingError, b64d, b64e
from fulcrum.escrow import EpochKeyBundle, EscrowContext, escrow_field_bytes, verify_escrow_field
from fulcrum.escrow.errors import EscrowError
from fulcrum.hazmat.ristretto import Point
from fulcrum.wire.api import API_PREFIX, QueueItem
from fulcrum.wire.translog import EpochKeyOut, LogKeys

if TYPE_CHECKING:
    from fulcrum.client.sdk import FulcrumClient
    from fulcrum.client.standard import LayerSet

NAME = "escrow"
DEV_OPT_OUT_ENV = "FULCRUM_DEV_NO_ESCROW"
NOT_VERIFIED = "could not be verified (escrow)"
# How far outside its window an epoch key may be used: client clocks drift, and a message sent
# just before the epoch ends may reach the relay just after.
SKEW_MS = 15 * 60 * 1000
KEEP_EPOCHS = 16  # accepted keys kept for verifying late messages


def dev_opt_out() -> bool:
    """True only when the development opt-out ``FULCRUM_DEV_NO_ESCROW=1`` is set."""
    return os.environ.get(DEV_OPT_OUT_ENV) == "1"


def escrow_state(client: FulcrumClient) -> dict[str, Any]:
    return client.core.layer_state.setdefault(NAME, {})


def pin_escrow_roots(
    client: FulcrumClient, log: LogRoots, trustees: TrusteeRoots | None = None
) -> None:
    """Pin the log, witness (and optionally trustee) keys out of band instead of on first use."""
    state = escrow_state(client)
    state["log"] = log.to_json()
    if trustees is not None:
        state["trustees"] = trustees.to_json()
    client.save()


def store_epoch_key(state: dict[str, Any], bundle: EpochKeyBundle) -> None:
    """Keep an accepted key (also used by benchmarks and tests to pre-load one)."""
    epochs: dict[str, Any] = state.setdefault("epochs", {})
    epochs[str(bundle.epoch)] = {
        "group_key": b64e(bundle.group_key.to_bytes()),
        "valid_from": bundle.valid_from,
        "valid_until": bundle.valid_until,
    }
    for old in sorted(epochs, key=int)[:-KEEP_EPOCHS]:
        del epochs[old]


@functools.lru_cache(maxsize=64)
def _point(b64: str) -> Point:
    return Point.from_bytes(b64d(b64, length=32))


def _usable(entry: dict[str, Any], at_ms: int) -> bool:
    return int(entry["valid_from"]) - SKEW_MS <= at_ms < int(entry["valid_until"]) + SKEW_MS


def message_context(header: MessageHeader, epoch: int) -> EscrowContext:
    """The escrow context of a message, from its (authenticated) header."""
    devices = []
    for ref in header.recipients:
        account, _, device = ref.partition("/")
        devices.append((account, device))
    return EscrowContext.for_message(
        epoch=epoch,
        conv=header.conv,
        msg_id=header.msg_id,
        sender=header.sender,
        sender_device=header.sender_device,
        recipient_devices=devices,
        client_ts=header.client_ts,
    )


class EpochKeyPreparer:
    name = NAME

    async def _log_roots(self, client: FulcrumClient, state: dict[str, Any]) -> LogRoots:
        if "log" not in state:
            try:
                response = await client.transport.request("GET", f"{API_PREFIX}/log/keys")
            except ApiError as exc:
                if exc.status == 404:
                    raise EscrowUnavailable("the server serves no transparency log") from exc
                raise
            keys = LogKeys.model_validate_json(response.content)
            state["log"] = LogRoots.from_keys(keys).to_json()
        return LogRoots.from_json(state["log"])

    async def fetch(self, client: FulcrumClient, epoch: int | None = None) -> EpochKeyBundle | None:
        """Fetch, verify and cache an epoch key (the current one by default). None when the
        server has no escrow; ``EpochKeyRefused`` when its evidence does not verify."""
        state = escrow_state(client)
        path = f"{API_PREFIX}/escrow/epoch-key"
        try:
            response = await client.transport.request(
                "GET", path, params=None if epoch is None else {"epoch": epoch}
            )
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        try:
            evidence = EpochKeyOut.model_validate_json(response.content)
        except ValueError as exc:
            raise EpochKeyRefused("malformed epoch key response") from exc
        log = await self._log_roots(client, state)
        offered = offered_trustees(evidence)
        pinned = TrusteeRoots.from_json(state["trustees"]) if "trustees" in state else offered
        bundle = accept_epoch_key(evidence, log, pinned)
        if epoch is not None and bundle.epoch != epoch:
            raise EpochKeyRefused(f"asked for epoch {epoch}, got {bundle.epoch}")
        state["trustees"] = pinned.to_json()
        store_epoch_key(state, bundle)
        return bundle

    async def prepare(
        self, client: FulcrumClient, attachments: Sequence[tuple[AttachmentKey, bytes]]
    ) -> None:
        state = escrow_state(client)
        now_ms = int(client.clock() * 1000)
        current = state.get("current")
        epochs: dict[str, Any] = state.get("epochs", {})
        if current is not None and str(current) in epochs:
            entry = epochs[str(current)]
            if int(entry["valid_from"]) - SKEW_MS <= now_ms < int(entry["valid_until"]):
                return
        bundle = await self.fetch(client)
        if bundle is None:
            state.pop("current", None)
            if dev_opt_out():
                return
            raise EscrowUnavailable(
                "the server has no escrow configured; refusing to send "
                f"(development servers: set {DEV_OPT_OUT_ENV}=1)"
            )
        if not _usable(state["epochs"][str(bundle.epoch)], now_ms):
            raise EpochKeyRefused(
                f"the server's epoch key (epoch {bundle.epoch}) is not valid now; check the clock"
            )
        state["current"] = bundle.epoch
        client.save()

    async def prepare_receive(
        self, client: FulcrumClient, item: QueueItem, payload: RatchetPayload
    ) -> None:
        """Fetch the key of the epoch this message names, if this device lacks it."""
        layer = payload.layers.get(NAME)
        epoch = layer.get("epoch") if isinstance(layer, dict) else None
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < 2**53:
            return
        if str(epoch) in escrow_state(client).get("epochs", {}):
            return
        try:
            await self.fetch(client, epoch)
        except (EpochKeyRefused, EscrowUnavailable):
            return  # the receive layer hides the message: its key cannot be verified


class EscrowSendLayer:
    name = NAME

    def on_send(self, message: OutgoingMessage, state: dict[str, Any]) -> None:
        current = state.get("current")
        entry = state.get("epochs", {}).get(str(current))
        if not isinstance(current, int) or entry is None:
            if dev_opt_out():
                return
            raise EscrowUnavailable("no verified escrow epoch key; refusing to send")
        ctx = message_context(message.header, current)
        message.escrow = escrow_field_bytes(message.k_m, ctx, _point(str(entry["group_key"])))
        message.layers[NAME] = {"epoch": current}
        message.extensions[NAME] = {"epoch": current, "client_ts": message.header.client_ts}


class EscrowReceiveLayer:
    name = NAME

    def on_receive(self, message: IncomingMessage, state: dict[str, Any]) -> str | None:
        item, payload = message.item, message.payload
        layer = payload.layers.get(NAME)
        if layer is None and item.escrow is None and dev_opt_out():
            return None
        if not self._verified(item, payload, layer, state):
            state["failed"] = int(state.get("failed", 0)) + 1
            return NOT_VERIFIED
        state["verified"] = int(state.get("verified", 0)) + 1
        return None

    @staticmethod
    def _verified(
        item: QueueItem, payload: RatchetPayload, layer: object, state: dict[str, Any]
    ) -> bool:
        if item.escrow is None or not isinstance(layer, dict):
            return False
        epoch = layer.get("epoch")
        if isinstance(epoch, bool) or not isinstance(epoch, int):
            return False
        clear = item.extensions.get(NAME)
        if clear != {"epoch": epoch, "client_ts": payload.header.client_ts}:
            return False  # the platform rebuilds ctx from these: they must be the true values
        entry = state.get("epochs", {}).get(str(epoch))
        if entry is None or not _usable(entry, item.server_ts):
            return False
        try:
            ctx = message_context(payload.header, epoch)
            return verify_escrow_field(
                b64d(item.escrow), payload.k_m, ctx, _point(str(entry["group_key"]))
            )
        except (EncodingError, EscrowError):
            return False


def add_escrow(layers: LayerSet) -> None:
    layers.preparers.append(EpochKeyPreparer())
    layers.send.append(EscrowSendLayer())
    layers.receive.append(EscrowReceiveLayer())

"""The layers every Fulcrum client runs, in order.

Each safety feature contributes a module ``fulcrum.client.<feature>_layer`` and appends its
factory here. ``Preparer``s run in the async shell before a message is composed (to fetch an
epoch key or a VOPRF evaluation); ``SendLayer``/``ReceiveLayer``s are pure and run inside the core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from fulcrum.client.layers import ReceiveLayer, SendLayer
from fulcrum.e2ee.content import AttachmentKey
from fulcrum.e2ee.payload import RatchetPayload
from fulcrum.wire.api import QueueItem

if TYPE_CHECKING:
    from fulcrum.client.sdk import FulcrumClient


class Preparer(Protocol):
    name: str

    async def prepare(
        self, client: FulcrumClient, attachments: Sequence[tuple[AttachmentKey, bytes]]
    ) -> None:
        """Fetch what the pure layers need; keep it in ``client.core.layer_state[name]``."""


class ReceivePreparer(Preparer, Protocol):
    """A preparer that also runs before a received message is verified (optional method: the
    SDK calls ``prepare_receive`` on every preparer that has one)."""

    async def prepare_receive(
        self, client: FulcrumClient, item: QueueItem, payload: RatchetPayload
    ) -> None:
        """Fetch what the receive layers need for this message (e.g. an older epoch key)."""


@dataclass
class LayerSet:
    preparers: list[Preparer] = field(default_factory=list)
    send: list[SendLayer] = field(default_factory=list)
    receive: list[ReceiveLayer] = field(default_factory=list)


LayerFactory = Callable[[LayerSet], None]

# Each feature appends a function that adds its preparers/layers to the set.
FACTORIES: list[LayerFactory] = []


def standard_layers() -> LayerSet:
    layers = LayerSet()
    for factory in FACTORIES:
        factory(layers)
    return layers


from fulcrum.client.franking_layer import add_franking  # noqa: E402

FACTORIES.append(add_franking)

from fulcrum.client.matching_layer import add_matching  # noqa: E402

FACTORIES.append(add_matching)

from fulcrum.client.escrow_layer import add_escrow  # noqa: E402

FACTORIES.append(add_escrow)

from fulcrum.client.forwarding import add_forwarding  # noqa: E402

FACTORIES.append(add_forwarding)

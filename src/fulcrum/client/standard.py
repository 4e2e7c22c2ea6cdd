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

if TYPE_CHECKING:
    from fulcrum.client.sdk import FulcrumClient


class Preparer(Protocol):
    name: str

    async def prepare(
        self, client: FulcrumClient, attachments: Sequence[tuple[AttachmentKey, bytes]]
    ) -> None:
        """Fetch what the pure layers need; keep it in ``client.core.layer_state[name]``."""


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

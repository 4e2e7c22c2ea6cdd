"""Push notifications to connected devices.

``PushHub`` is the seam: the in-process hub serves one worker; with several workers the same
interface is implemented over Redis pub/sub (one channel per device, ``PUBLISH`` from the worker
that accepted the message, ``SUBSCRIBE`` in the worker holding the WebSocket). Events carry only
queue sequence numbers, never content.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any, Protocol


class PushSubscription(Protocol):
    async def next_event(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


class PushHub(Protocol):
    async def publish(self, device_id: str, event: dict[str, Any]) -> None: ...

    async def subscribe(self, device_id: str) -> PushSubscription: ...

    def connected(self, device_id: str) -> bool: ...


class _LocalSubscription:
    def __init__(self, hub: InProcessPushHub, device_id: str, buffer: int) -> None:
        self.hub = hub
        self.device_id = device_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=buffer)

    async def next_event(self) -> dict[str, Any]:
        return await self.queue.get()

    async def close(self) -> None:
        self.hub._remove(self)


class InProcessPushHub:
    """Fan-out inside one process. A full buffer drops the event: the device fetches on reconnect
    or on its next page, so a dropped push delays delivery but never loses a message."""

    def __init__(self, buffer: int = 1000) -> None:
        self.buffer = buffer
        self._subs: dict[str, set[_LocalSubscription]] = defaultdict(set)

    async def publish(self, device_id: str, event: dict[str, Any]) -> None:
        for sub in list(self._subs.get(device_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                sub.queue.put_nowait(event)

    async def subscribe(self, device_id: str) -> PushSubscription:
        sub = _LocalSubscription(self, device_id, self.buffer)
        self._subs[device_id].add(sub)
        return sub

    def connected(self, device_id: str) -> bool:
        return bool(self._subs.get(device_id))

    def _remove(self, sub: _LocalSubscription) -> None:
        subs = self._subs.get(sub.device_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.device_id]

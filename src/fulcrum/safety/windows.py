"""Sliding-window counters with O(1) amortised updates (each entry is appended and expired once).

Times should arrive in non-decreasing order per counter; a slightly late entry is kept and simply
expires in arrival order, never undercounted.
"""

from __future__ import annotations

from collections import deque


class SlidingCount:
    """How many events happened in the last ``window`` seconds."""

    __slots__ = ("_times", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self._times: deque[float] = deque()

    def add(self, at: float) -> int:
        self._times.append(at)
        return self.count(at)

    def count(self, at: float) -> int:
        times = self._times
        horizon = at - self.window
        while times and times[0] <= horizon:
            times.popleft()
        return len(times)


class DistinctWindow:
    """How many distinct keys were seen in the last ``window`` seconds."""

    __slots__ = ("_counts", "_events", "window")

    def __init__(self, window: float) -> None:
        self.window = window
        self._events: deque[tuple[float, str]] = deque()
        self._counts: dict[str, int] = {}

    def add(self, at: float, key: str) -> int:
        self._events.append((at, key))
        self._counts[key] = self._counts.get(key, 0) + 1
        return self.distinct(at)

    def distinct(self, at: float) -> int:
        self._expire(at)
        return len(self._counts)

    def keys(self, at: float) -> frozenset[str]:
        self._expire(at)
        return frozenset(self._counts)

    def __contains__(self, key: object) -> bool:
        return key in self._counts

    def lapses_at(self) -> float:
        """When the oldest entry leaves the window (infinity when empty)."""
        return self._events[0][0] + self.window if self._events else float("inf")

    def _expire(self, at: float) -> None:
        events, counts = self._events, self._counts
        horizon = at - self.window
        while events and events[0][0] <= horizon:
            _, key = events.popleft()
            left = counts[key] - 1
            if left:
                counts[key] = left
            else:
                del counts[key]

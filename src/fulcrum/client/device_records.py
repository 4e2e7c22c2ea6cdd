"""A device's state as keyed store records, and what changed since the last save.

``DeviceRecords`` remembers what the log holds and turns the current ``ClientCore`` and
``DeviceState`` into the records that differ: small mutable state as snapshots (one per kind and
key: the Olm account, one per peer's Olm sessions, one per Megolm session, one per directory
account, per layer-state entry), the history as one record per entry (new entries, and outgoing ones
still waiting for the server's timestamp, are the only ones looked at), the two replay sets as
chunks of what was added. A save therefore writes what changed, not the history.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from fulcrum.client.core import ClientCore, DeviceRecord
from fulcrum.client.journaled import JournaledDict, JournaledSet
from fulcrum.client.store import HomeError, Record
from fulcrum.e2ee import DeviceAccount, GroupReceiver, GroupSender, OlmSessions

META, DEVICE, SESSION, GROUP_IN, GROUP_SEEN, GROUP_OUT = 1, 2, 3, 4, 5, 6
DIRECTORY, OUTBOX, HISTORY, SEEN, LAYER = 7, 8, 9, 10, 11
SNAPSHOT_KINDS = (META, DEVICE, SESSION, GROUP_IN, GROUP_OUT, DIRECTORY, OUTBOX)
FORMAT_VERSION = 2
JOURNAL_MIN_ENTRIES = 64  # layer maps at least this large are journaled, not compared whole


@dataclass
class DeviceState:
    """Everything a device persists, besides the core's crypto state."""

    server: str
    token: str
    outbox: list[dict[str, Any]] = field(default_factory=list)
    last_seq: int = 0

    def __repr__(self) -> str:
        return f"DeviceState(server={self.server!r})"


def _layer_key(layer: str, top: str, *sub: str) -> str:
    """``["layer","top"]``, then for one entry of a map a newline and the entry's key (JSON text
    holds no raw newline, so the first one separates)."""
    head = json.dumps([layer, top], separators=(",", ":"), ensure_ascii=False)
    return head if not sub else f"{head}\n{sub[0]}"


@functools.lru_cache(maxsize=256)
def _layer_head(head: str) -> tuple[str, str]:
    parts = json.loads(head)
    if not (isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts)):
        raise HomeError("the device store's layer state is inconsistent")
    return parts[0], parts[1]


def _split_layer_key(key: str) -> list[str]:
    head, newline, sub = key.partition("\n")
    return [*_layer_head(head), sub] if newline else list(_layer_head(head))


def _pending(entry: dict[str, Any]) -> bool:
    """An outgoing entry the server has not timestamped yet (``record_server_time`` edits it)."""
    return entry.get("direction") == "out" and not entry.get("server_ts")


class DeviceRecords:
    """What the log holds, kept in memory to compute the next save's records."""

    def __init__(self, pickle_key: bytes) -> None:
        self._pk = pickle_key
        self.snapshots: dict[tuple[int, str], Any] = {}
        self.history: dict[int, dict[str, Any]] = {}  # filled at load only, then handed over
        self.history_len = 0
        self.watched: dict[int, dict[str, Any]] = {}  # persisted copies of pending entries
        self.seen: set[str] = set()
        self.seen_chunks: dict[str, int] = {}
        self.group_seen: set[tuple[str, int]] = set()
        self.group_seen_chunks: dict[str, int] = {}
        self.layers: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"DeviceRecords(history={self.history_len}, snapshots={len(self.snapshots)})"

    # --- log -> memory ----------------------------------------------------------------------

    def apply(self, records: Iterable[Record], *, loading: bool = False) -> None:
        """Take records the log now holds: at open (``loading``: keep the history entries for
        ``build``), or after a successful write."""
        for kind, key, value in records:
            if kind == HISTORY:
                self._apply_history(int(key), value, loading)
            elif kind == SEEN:  # chunk "0" is the first one, or a rewrite holding the whole set
                self._apply_chunk(self.seen_chunks, key, value)
                if key == "0" and value is not None:
                    self.seen = set()
                self.seen.update(str(v) for v in value or ())
            elif kind == GROUP_SEEN:
                self._apply_chunk(self.group_seen_chunks, key, value)
                if key == "0" and value is not None:
                    self.group_seen = set()
                self.group_seen.update((str(s), int(i)) for s, i in value or ())
            elif kind == LAYER:
                self._apply_layer(_split_layer_key(key), value)
            elif value is None:
                self.snapshots.pop((kind, key), None)
            else:
                self.snapshots[(kind, key)] = value

    def _apply_history(self, index: int, entry: dict[str, Any] | None, loading: bool) -> None:
        if entry is None:
            self.history.pop(index, None)
            self.watched.pop(index, None)
            self.history_len = min(self.history_len, index)
            return
        self.history_len = max(self.history_len, index + 1)
        if loading:
            self.history[index] = entry
        if _pending(entry):
            self.watched[index] = copy.deepcopy(entry)
        else:
            self.watched.pop(index, None)

    @staticmethod
    def _apply_chunk(chunks: dict[str, int], key: str, value: Any) -> None:
        """Track live chunk keys and, under "", the next free chunk number."""
        if value is None:
            chunks.pop(key, None)
        else:
            chunks[key] = len(value)
            chunks[""] = max(chunks.get("", 0), int(key) + 1)

    def _apply_layer(self, parts: list[str], value: Any) -> None:
        layer = self.layers.setdefault(parts[0], {})
        if len(parts) == 2:
            if value is None:
                layer.pop(parts[1], None)
            elif "dict" in value:
                existing = layer.get(parts[1])
                layer[parts[1]] = existing if isinstance(existing, dict) else {}
            else:
                layer[parts[1]] = value["value"]  # records are private copies already
        else:
            top = layer.setdefault(parts[1], {})
            if not isinstance(top, dict):
                raise HomeError("the device store's layer state is inconsistent")
            if value is None:
                top.pop(parts[2], None)
            else:
                top[parts[2]] = value
        if not layer:
            del self.layers[parts[0]]

    # --- memory -> core ---------------------------------------------------------------------

    def build(self) -> tuple[ClientCore, DeviceState]:
        """The core and device state the records describe (history handed over, then dropped)."""
        meta = self.snapshots.get((META, ""))
        if meta is None or (DEVICE, "") not in self.snapshots:
            raise HomeError("the device store holds no device (an incomplete first save?)")
        if sorted(self.history) != list(range(self.history_len)):
            raise HomeError("the device store's history has gaps")
        pk = self._pk
        device = DeviceAccount.from_pickle(self.snapshots[(DEVICE, "")], pk)
        of = self._of
        receiver = GroupReceiver.from_pickle(
            {"sessions": of(GROUP_IN), "seen": sorted(self.group_seen)}, pk
        )
        groups = of(GROUP_OUT)
        core = ClientCore(
            account=meta["account"],
            device_id=meta["device_id"],
            device=device,
            sessions=OlmSessions.from_pickle(device, of(SESSION), pk),
            group_receiver=receiver,
            group_senders={
                g: GroupSender.from_pickle(v["sender"], pk)
                for g, v in groups.items()
                if v["sender"] is not None
            },
            group_shared_with={g: set(v["shared"]) for g, v in groups.items()},
            directory={
                account: {d: DeviceRecord(account, d, k[0], k[1]) for d, k in devices.items()}
                for account, devices in of(DIRECTORY).items()
            },
            history=[self.history[i] for i in range(self.history_len)],
            seen=set(self.seen),
            layer_state=_json_copy(self.layers),
            rejected_count=meta["rejected_count"],
        )
        self.history = {}
        outbox = copy.deepcopy(self.snapshots.get((OUTBOX, ""), []))
        state = DeviceState(meta["server"], meta["token"], outbox, meta["last_seq"])
        return core, state

    def _of(self, kind: int) -> dict[str, Any]:
        return {key: copy.deepcopy(v) for (k, key), v in self.snapshots.items() if k == kind}

    # --- core -> records --------------------------------------------------------------------

    def changes(self, core: ClientCore, state: DeviceState) -> list[Record]:
        """The records that bring the log up to ``core`` and ``state`` (nothing is changed here)."""
        pk = self._pk
        out: list[Record] = []
        meta = {
            "v": FORMAT_VERSION,
            "account": core.account,
            "device_id": core.device_id,
            "server": state.server,
            "token": state.token,
            "last_seq": state.last_seq,
            "rejected_count": core.rejected_count,
        }
        group_sessions, group_seen = _group_receiver_state(core.group_receiver, pk)
        current: dict[int, dict[str, Any]] = {
            META: {"": meta},
            DEVICE: {"": core.device.pickle(pk)},
            SESSION: dict(core.sessions.pickle(pk)),
            GROUP_IN: group_sessions,
            GROUP_OUT: {
                g: {
                    "sender": s.pickle(pk) if (s := core.group_senders.get(g)) else None,
                    "shared": sorted(core.group_shared_with.get(g, ())),
                }
                for g in sorted(set(core.group_senders) | set(core.group_shared_with))
            },
            DIRECTORY: {
                a: {d: [r.identity_key, r.signing_key] for d, r in devices.items()}
                for a, devices in core.directory.items()
            },
            OUTBOX: {"": state.outbox},
        }
        for kind, values in current.items():
            out.extend(self._snapshot_changes(kind, values))
        out.extend(self._history_changes(core.history))
        out.extend(self._set_changes(SEEN, core.seen, self.seen, self.seen_chunks))
        if len(group_seen) != len(self.group_seen):  # the receiver's replay set only grows
            pairs = self._set_changes(
                GROUP_SEEN, group_seen, self.group_seen, self.group_seen_chunks
            )
            out.extend(pairs)
        out.extend(self._layer_changes(core.layer_state))
        return out

    def _snapshot_changes(self, kind: int, values: dict[str, Any]) -> Iterable[Record]:
        for key, value in values.items():
            if self.snapshots.get((kind, key)) != value:
                yield kind, key, copy.deepcopy(value)
        for k, key in list(self.snapshots):
            if k == kind and key not in values:
                yield kind, key, None

    def _history_changes(self, history: list[dict[str, Any]]) -> Iterable[Record]:
        if len(history) < self.history_len:  # history was cut: rewrite it
            yield from ((HISTORY, str(i), None) for i in range(self.history_len))
            start = 0
        else:
            for i, persisted in self.watched.items():
                if history[i] != persisted:
                    yield HISTORY, str(i), copy.deepcopy(history[i])
            start = self.history_len
        for i in range(start, len(history)):
            yield HISTORY, str(i), copy.deepcopy(history[i])

    @staticmethod
    def _set_changes(
        kind: int, current: Any, persisted: Any, chunks: dict[str, int]
    ) -> list[Record]:
        """Records for what was added to a set (``chunks``: chunk key -> item count); a removal
        rewrites the whole set (the core never removes)."""
        if isinstance(current, JournaledSet) and not current.all_touched:
            added = {a for a in current.added if a not in persisted}
        else:
            added = current - persisted
        if len(persisted) + len(added) == len(current):  # nothing was removed
            if not added:
                return []
            key = str(chunks.get("", 0))
            return [(kind, key, sorted(list(a) if isinstance(a, tuple) else a for a in added))]
        out: list[Record] = [(kind, c, None) for c in sorted(chunks) if c]
        out.append((kind, "0", sorted(list(a) if isinstance(a, tuple) else a for a in current)))
        return out

    def _layer_changes(self, layers: dict[str, dict[str, Any]]) -> Iterable[Record]:
        for name, state in layers.items():
            old_layer = self.layers.get(name, {})
            for top, value in state.items():
                old = old_layer.get(top, _MISSING)
                if isinstance(value, JournaledDict) and isinstance(old, dict):
                    if not value.all_touched:
                        yield from self._touched_changes(name, top, value, old)
                        continue
                elif value == old and type(value) is type(old):
                    continue
                if isinstance(value, dict):
                    if not isinstance(old, dict):
                        yield LAYER, _layer_key(name, top), {"dict": True}
                        old = {}
                    for sub, item in value.items():
                        if sub not in old or old[sub] != item:
                            yield LAYER, _layer_key(name, top, sub), copy.deepcopy(item)
                    for sub in old:
                        if sub not in value:
                            yield LAYER, _layer_key(name, top, sub), None
                else:
                    yield from self._drop_layer_entry(name, top, old)
                    yield LAYER, _layer_key(name, top), {"value": copy.deepcopy(value)}
            for top, old in old_layer.items():
                if top not in state:
                    yield from self._drop_layer_entry(name, top, old)
                    yield LAYER, _layer_key(name, top), None
        for name, old_layer in self.layers.items():
            if name not in layers:
                for top, old in old_layer.items():
                    yield from self._drop_layer_entry(name, top, old)
                    yield LAYER, _layer_key(name, top), None

    @staticmethod
    def _touched_changes(
        name: str, top: str, value: JournaledDict, old: dict[str, Any]
    ) -> Iterable[Record]:
        for sub in sorted(value.touched):
            item, before = dict.get(value, sub, _MISSING), old.get(sub, _MISSING)
            if item is _MISSING:
                if before is not _MISSING:
                    yield LAYER, _layer_key(name, top, sub), None
            elif before is _MISSING or item != before:
                yield LAYER, _layer_key(name, top, sub), copy.deepcopy(item)

    @staticmethod
    def saved(core: ClientCore) -> None:
        """After a durable save: journal the replay set and large layer maps from now on."""
        if isinstance(core.seen, JournaledSet):
            core.seen.reset()
        else:
            core.seen = JournaledSet(core.seen)
        for state in core.layer_state.values():
            for top, value in state.items():
                if isinstance(value, JournaledDict):
                    value.reset()
                elif type(value) is dict and len(value) >= JOURNAL_MIN_ENTRIES:
                    state[top] = JournaledDict(value)

    @staticmethod
    def _drop_layer_entry(name: str, top: str, old: Any) -> Iterable[Record]:
        if isinstance(old, dict):
            yield from ((LAYER, _layer_key(name, top, sub), None) for sub in old)


_MISSING: Any = object()


def _group_receiver_state(
    receiver: GroupReceiver, pk: bytes
) -> tuple[dict[str, Any], Collection[tuple[str, int]]]:
    """The receiver's inbound sessions (pickled) and its replay set, without sorting the whole set
    as ``GroupReceiver.pickle`` does on every call (which grows with the group messages received).
    Falls back to ``pickle`` should the receiver's layout change."""
    sessions, seen = getattr(receiver, "_sessions", None), getattr(receiver, "_seen", None)
    if isinstance(sessions, dict) and isinstance(seen, set):
        pickled = {
            sid: [owner, str(inbound.pickle(pk))] for sid, (owner, inbound) in sessions.items()
        }
        return pickled, seen
    data: dict[str, Any] = receiver.pickle(pk)
    return dict(data["sessions"]), {(str(s), int(i)) for s, i in data["seen"]}


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON data (several times faster than ``copy.deepcopy`` on large maps)."""
    return json.loads(json.dumps(value))

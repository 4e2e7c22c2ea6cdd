"""Client device store: cost of saving after one received message, at 100 and 10,000 entries.

Baseline: the earlier whole-state rewrite (every save serialised the whole state, sealed it under
the passphrase key and wrote it with temp file + fsync + rename, plus ``device.json``); a copy of
that routine lives below as ``whole_state_save``. Ours: ``DeviceHome.save`` appending what changed
as individually sealed records and fsyncing once. Each "message" is what a received direct message
does to the saved state: one Olm decryption (the session pickle changes), a history entry, a
replay-set entry and a franking bundle in the layer state. Both run in the same process on the
same device state (the old series runs second, on a history longer by ``--messages``), on the same
disk, with fsync. Also printed: bytes written per message and the time to open a home of that size
(the passphrase KDF excluded: both formats pay it once per open), packed as after a compaction and,
the worst case, one record per entry.

    python bench/bench_client_store.py [--messages 30] [--sizes 100 10000] [--group]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from fulcrum.client import store
from fulcrum.client.core import ClientCore, DeviceRecord
from fulcrum.client.home import LOG_FILE, DeviceHome, DeviceState, legacy_load
from fulcrum.e2ee import DeviceAccount, GroupSender, OlmSessions
from fulcrum.e2ee.at_rest import new_salt, pickle_key, seal_state, storage_key
from fulcrum.e2ee.groups import GroupSessionKey

LOG2_N = 10  # the passphrase KDF runs once per open: not what is measured here


def whole_state_save(
    path: Path, core: ClientCore, state: DeviceState, kek: bytes, salt: bytes
) -> int:
    """The earlier ``DeviceHome.save``: the whole state sealed and rewritten on every save."""
    pk = pickle_key(kek)
    data = {
        "v": 1,
        "account": core.account,
        "device_id": core.device_id,
        "server": state.server,
        "token": state.token,
        "outbox": state.outbox,
        "last_seq": state.last_seq,
        "device": core.device.pickle(pk),
        "sessions": core.sessions.pickle(pk),
        "group_receiver": core.group_receiver.pickle(pk),
        "group_senders": {g: s.pickle(pk) for g, s in core.group_senders.items()},
        "group_shared_with": {g: sorted(s) for g, s in core.group_shared_with.items()},
        "directory": {
            account: {d: [r.identity_key, r.signing_key] for d, r in devices.items()}
            for account, devices in core.directory.items()
        },
        "history": core.history,
        "seen": sorted(core.seen),
        "layer_state": core.layer_state,
        "rejected_count": core.rejected_count,
    }
    blob = seal_state(kek, salt, LOG2_N, json.dumps(data).encode())
    _atomic_write(path / "state.fulcrum", blob)
    public = {"account": core.account, "device_id": core.device_id, "server": state.server}
    encoded = json.dumps(public, indent=2).encode()
    _atomic_write(path / "device.json", encoded)
    return len(blob) + len(encoded)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class Device:
    """Alice's state, and Bob sending her direct messages over a real Olm session (or, with
    ``group``, group messages over a real Megolm session)."""

    def __init__(self, *, group: bool = False) -> None:
        self.group = group
        alice, self.bob = DeviceAccount(), DeviceAccount()
        self.core = ClientCore("alice", "A1", alice, OlmSessions(alice))
        self.core.directory["bob"] = {
            "B1": DeviceRecord("bob", "B1", self.bob.identity_key, self.bob.signing_key)
        }
        self.core.group_senders["g"] = GroupSender("g", 1, 1000.0)
        self.core.layer_state["franking"] = {"failed": 0, "bundles": {}, "prev": {}}
        self.bob_sessions = OlmSessions(self.bob)
        otk = next(iter(alice.new_one_time_keys(1).values()))
        self.bob_sessions.start(alice.identity_key, otk)
        self.state = DeviceState("http://127.0.0.1:8080", "bearer-token")
        self.n = 0
        self.outbound = GroupSender("team", 1, 1000.0)
        key = self.outbound.session_key()
        self.core.group_receiver.add(
            self.bob.identity_key, GroupSessionKey(key.group_id, key.session_id, key.session_key)
        )

    def receive(self, *, decrypt: bool = True) -> None:
        i, self.n = self.n, self.n + 1
        msg_id = f"m{i:08d}"
        text = f"message {i}: " + "lorem ipsum dolor sit amet " * 4
        if self.group:  # always decrypted: the replay set of (session, index) grows with them
            megolm = self.outbound.encrypt(text.encode())
            self.core.group_receiver.decrypt(self.bob.identity_key, megolm)
        elif decrypt:
            ct = self.bob_sessions.encrypt(self.core.device.identity_key, text.encode())
            self.core.sessions.decrypt(self.bob.identity_key, ct)
        self.core.history.append(
            {
                "msg_id": msg_id,
                "conv": "dm:alice:bob",
                "sender": "bob",
                "sender_device": "B1",
                "direction": "in",
                "text": text,
                "content_type": "text/plain",
                "client_ts": 1_700_000_000_000 + i,
                "server_ts": 1_700_000_000_500 + i,
                "attachments": [],
            }
        )
        self.core.seen.add(f"bob/{msg_id}")
        self.core.layer_state["franking"]["bundles"][msg_id] = {
            "commitment": "c" * 43,
            "opening": "o" * 43,
            "server_ts": 1_700_000_000_500 + i,
        }


def open_unpacked(device: Device, path: Path) -> float:
    """Seconds to open the same state saved as one record per entry (no packs): the worst case,
    a log written one message at a time and not yet compacted."""
    saved = store.PACK_MIN_RECORDS
    store.PACK_MIN_RECORDS = 1 << 62
    try:
        home = DeviceHome(path, log2_n=LOG2_N)
        home.unlock_with("bench passphrase")
        home.save(device.core, device.state)
        home.unlock()
    finally:
        store.PACK_MIN_RECORDS = saved
    reader = DeviceHome(path)
    reader.unlock_with("bench passphrase")
    t0 = time.perf_counter()
    reader.load()  # not locked: opening does not compact it
    elapsed = time.perf_counter() - t0
    reader.unlock()
    return elapsed


def measure(size: int, messages: int, root: Path, *, group: bool) -> dict[str, float]:
    device = Device(group=group)
    device.receive()  # the first decryption creates the inbound session
    while device.n < size:
        device.receive(decrypt=False)
    salt = new_salt()
    kek = storage_key("bench passphrase", salt, LOG2_N)
    old_dir, new_dir = root / f"old-{size}", root / f"new-{size}"
    old_dir.mkdir()
    home = DeviceHome(new_dir, log2_n=LOG2_N)
    home.unlock_with("bench passphrase")
    whole_state_save(old_dir, device.core, device.state, kek, salt)
    home.save(device.core, device.state)
    assert home.log is not None
    old_t, new_t, old_b, new_b = [], [], [], []
    # One series after the other: the old rewrite frees megabytes per save, and the file system
    # (mounted with discard here) settles that on the next journal commit, whoever triggers it.
    for _ in range(messages):
        device.receive()
        before = home.log.size
        t0 = time.perf_counter()
        home.save(device.core, device.state)
        new_t.append(time.perf_counter() - t0)
        new_b.append(home.log.size - before)
    os.sync()
    for _ in range(messages):
        device.receive()
        t0 = time.perf_counter()
        old_b.append(whole_state_save(old_dir, device.core, device.state, kek, salt))
        old_t.append(time.perf_counter() - t0)
    home.unlock()
    t0 = time.perf_counter()
    legacy_load(kek, (old_dir / "state.fulcrum").read_bytes())
    t1 = time.perf_counter()
    reader = DeviceHome(new_dir)
    reader.unlock_with("bench passphrase")  # scrypt: outside the timed part
    t2 = time.perf_counter()
    reader.load()
    t3 = time.perf_counter()
    reader.unlock()
    unpacked = open_unpacked(device, root / f"unpacked-{size}")
    return {
        "old_ms": statistics.median(old_t) * 1e3,
        "new_ms": statistics.median(new_t) * 1e3,
        "old_bytes": statistics.median(old_b),
        "new_bytes": statistics.median(new_b),
        "old_open_ms": (t1 - t0) * 1e3,
        "new_open_ms": (t3 - t2) * 1e3,
        "unpacked_open_ms": unpacked * 1e3,
        "log_bytes": float((new_dir / LOG_FILE).stat().st_size),
        "state_bytes": float((old_dir / "state.fulcrum").stat().st_size),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30, help="saves timed per size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--group", action="store_true", help="group (Megolm) messages instead")
    args = parser.parse_args()
    kind = "group (Megolm)" if args.group else "direct (Olm)"
    print(
        f"load average: {os.getloadavg()[0]:.2f} (1 min); {kind} messages; "
        f"median of {args.messages} saves"
    )
    print(
        f"{'history':>8} {'old ms/msg':>11} {'new ms/msg':>11} {'old/new':>8} "
        f"{'old B/msg':>10} {'new B/msg':>10} {'old open ms':>12} {'new open ms':>12}"
    )
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            r = measure(size, args.messages, Path(tmp), group=args.group)
            rows[size] = r
            print(
                f"{size:>8} {r['old_ms']:>11.2f} {r['new_ms']:>11.2f} "
                f"{r['old_ms'] / r['new_ms']:>7.1f}x {r['old_bytes']:>10.0f} "
                f"{r['new_bytes']:>10.0f} {r['old_open_ms']:>12.1f} {r['new_open_ms']:>12.1f}"
            )
    lo, hi = min(rows), max(rows)
    for size, r in rows.items():
        print(
            f"{size:>8} entries: log {r['log_bytes']:.0f} B, whole state {r['state_bytes']:.0f} B; "
            f"open unpacked (one record per entry) {r['unpacked_open_ms']:.1f} ms"
        )
    print(
        f"growth {lo} -> {hi} entries: old {rows[hi]['old_ms'] / rows[lo]['old_ms']:.1f}x, "
        f"new {rows[hi]['new_ms'] / rows[lo]['new_ms']:.2f}x per save; bytes per save: old "
        f"{rows[hi]['old_bytes'] / rows[lo]['old_bytes']:.1f}x, "
        f"new {rows[hi]['new_bytes'] / rows[lo]['new_bytes']:.2f}x"
    )


if __name__ == "__main__":
    main()

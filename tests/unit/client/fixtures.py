"""Device state built without a server, and the earlier whole-state writer (for migration)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from fulcrum.client.core import ClientCore, DeviceRecord
from fulcrum.client.home import DeviceHome, DeviceState
from fulcrum.e2ee import DeviceAccount, GroupSender, OlmSessions
from fulcrum.e2ee.at_rest import pickle_key, seal_state

PASS = "correct horse"
MARKER = "PLAINTEXT-MARKER-7f3a"


def new_core(n_history: int = 0) -> tuple[ClientCore, DeviceState, DeviceAccount, OlmSessions]:
    """Alice's core with an Olm session to Bob, a group, layer state and ``n_history`` entries."""
    alice, bob = DeviceAccount(), DeviceAccount()
    core = ClientCore("alice", "A1", alice, OlmSessions(alice))
    otk = next(iter(bob.new_one_time_keys(1).values()))
    core.sessions.start(bob.identity_key, otk)
    core.directory["bob"] = {"B1": DeviceRecord("bob", "B1", bob.identity_key, bob.signing_key)}
    core.group_senders["g"] = GroupSender("g", 1, 1000.0)
    core.group_shared_with["g"] = {"bob/B1"}
    core.layer_state["franking"] = {"failed": 0, "bundles": {}, "prev": {}}
    bob_sessions = OlmSessions(bob)
    for i in range(n_history):
        receive(core, i, "hello")
    return core, DeviceState("http://relay", "token-secret"), bob, bob_sessions


def receive(core: ClientCore, i: int, text: str, *, direction: str = "in") -> None:
    """What accepting a message does to the state a save writes."""
    msg_id = f"m{i:06d}"
    core.history.append(
        {
            "msg_id": msg_id,
            "conv": "dm:alice:bob",
            "sender": "bob" if direction == "in" else "alice",
            "sender_device": "B1",
            "direction": direction,
            "text": text,
            "content_type": "text/plain",
            "client_ts": 1_700_000_000_000 + i,
            "server_ts": 1_700_000_000_100 + i if direction == "in" else 0,
            "attachments": [],
        }
    )
    core.seen.add(f"bob/{msg_id}")
    core.layer_state["franking"]["bundles"][msg_id] = {"commitment": f"c{i:06d}", "ts": i}


def open_home(path: Path, passphrase: str = PASS, **kw: Any) -> DeviceHome:
    home = DeviceHome(path, log2_n=10, **kw)
    home.unlock_with(passphrase)
    return home


def legacy_save(home: Path, core: ClientCore, state: DeviceState, kek: bytes, salt: bytes) -> None:
    """The whole-state ``state.fulcrum`` writer of earlier versions (log2 N = 10)."""
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
    home.mkdir(parents=True, exist_ok=True)
    (home / "state.fulcrum").write_bytes(seal_state(kek, salt, 10, json.dumps(data).encode()))


def snapshot(core: ClientCore, state: DeviceState) -> dict[str, Any]:
    """What must survive a save and a load (comparable with ==)."""
    pk = b"k" * 32
    return copy.deepcopy(
        {
            "account": (core.account, core.device_id, core.rejected_count),
            "device": core.device.pickle(pk),
            "sessions": core.sessions.pickle(pk),
            "group_receiver": core.group_receiver.pickle(pk),
            "group_senders": {g: s.pickle(pk) for g, s in core.group_senders.items()},
            "shared": core.group_shared_with,
            "directory": core.directory,
            "history": core.history,
            "seen": core.seen,
            "layers": {k: v for k, v in core.layer_state.items() if v},
            "state": (state.server, state.token, state.outbox, state.last_seq),
        }
    )

"""A device's home directory: sealed state, public device info, saved attachments.

Layout: ``device.json`` (public: account, device id, server), ``state.fulcrum`` (sealed under the
passphrase-derived key: Olm/Megolm pickles, bearer token, directory, history, outbox), ``files/``
(decrypted attachments the user received), ``lock`` (one process at a time).
Writes are atomic (temp file, fsync, rename): a crash leaves the previous state.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from fulcrum.client.core import ClientCore, DeviceRecord
from fulcrum.e2ee import DeviceAccount, GroupReceiver, GroupSender, OlmSessions
from fulcrum.e2ee.at_rest import (
    DEFAULT_LOG2_N,
    new_salt,
    open_state,
    pickle_key,
    read_salt,
    seal_state,
    storage_key,
)
from fulcrum.wire.api import EnvelopeIn

STATE_FILE = "state.fulcrum"
DEVICE_FILE = "device.json"


class HomeError(Exception):
    """The home directory is missing, locked or unreadable."""


@dataclass
class DeviceState:
    """Everything a device persists, besides the core's crypto state."""

    server: str
    token: str
    outbox: list[dict[str, Any]] = field(default_factory=list)
    last_seq: int = 0

    def __repr__(self) -> str:
        return f"DeviceState(server={self.server!r})"


class DeviceHome:
    def __init__(self, path: Path, *, log2_n: int = DEFAULT_LOG2_N) -> None:
        self.path = path
        self.log2_n = log2_n
        self._key: bytes | None = None
        self._salt: bytes | None = None
        self._lock: IO[str] | None = None

    @property
    def files_dir(self) -> Path:
        return self.path / "files"

    def exists(self) -> bool:
        return (self.path / STATE_FILE).exists()

    def lock(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        handle = (self.path / "lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise HomeError(f"{self.path} is in use by another fulcrum process") from exc
        self._lock = handle

    def unlock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def unlock_with(self, passphrase: str) -> None:
        """Derive the storage key (for a new home, pick a fresh salt)."""
        blob_path = self.path / STATE_FILE
        if blob_path.exists():
            self._salt, log2_n = read_salt(blob_path.read_bytes())
            self.log2_n = log2_n
        else:
            self._salt = new_salt()
        self._key = storage_key(passphrase, self._salt, self.log2_n)

    def _require_key(self) -> tuple[bytes, bytes]:
        if self._key is None or self._salt is None:
            raise HomeError("home is locked; call unlock_with(passphrase) first")
        return self._key, self._salt

    def save(self, core: ClientCore, state: DeviceState) -> None:
        key, salt = self._require_key()
        pk = pickle_key(key)
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
        blob = seal_state(key, salt, self.log2_n, json.dumps(data).encode())
        self._atomic_write(self.path / STATE_FILE, blob)
        public = {"account": core.account, "device_id": core.device_id, "server": state.server}
        self._atomic_write(self.path / DEVICE_FILE, json.dumps(public, indent=2).encode())

    def load(self) -> tuple[ClientCore, DeviceState]:
        key, _ = self._require_key()
        pk = pickle_key(key)
        try:
            blob = (self.path / STATE_FILE).read_bytes()
        except FileNotFoundError as exc:
            raise HomeError(
                f"no Fulcrum device in {self.path}; run `fulcrum account create`"
            ) from exc
        data = json.loads(open_state(key, blob))
        device = DeviceAccount.from_pickle(data["device"], pk)
        core = ClientCore(
            account=data["account"],
            device_id=data["device_id"],
            device=device,
            sessions=OlmSessions.from_pickle(device, data["sessions"], pk),
            group_receiver=GroupReceiver.from_pickle(data["group_receiver"], pk),
            group_senders={
                g: GroupSender.from_pickle(s, pk) for g, s in data["group_senders"].items()
            },
            group_shared_with={g: set(s) for g, s in data["group_shared_with"].items()},
            directory={
                account: {
                    d: DeviceRecord(account, d, keys[0], keys[1]) for d, keys in devices.items()
                }
                for account, devices in data["directory"].items()
            },
            history=data["history"],
            seen=set(data["seen"]),
            layer_state=data["layer_state"],
            rejected_count=data["rejected_count"],
        )
        state = DeviceState(data["server"], data["token"], data["outbox"], data["last_seq"])
        return core, state

    @staticmethod
    def _atomic_write(path: Path, data: bytes) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def outbox_entry(envelope: EnvelopeIn) -> dict[str, Any]:
    return envelope.model_dump(mode="json")

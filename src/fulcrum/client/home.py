"""A device's home directory: the encrypted record store, public device info, saved attachments.

Layout: ``store.key`` (a random data key wrapped under the passphrase-derived key, with the salt,
scrypt cost and store id), ``store.log`` (the append-only log of records sealed under the data key:
Olm/Megolm pickles, bearer token, directory, history, outbox; see ``fulcrum.client.store``),
``device.json`` (public: account, device id, server), ``files/`` (decrypted attachments the user
received), ``lock`` (one process at a time). A home in the earlier whole-state format
(``state.fulcrum``) is converted once when it is opened.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from fulcrum.client.core import ClientCore, DeviceRecord
from fulcrum.client.device_records import GROUP_SEEN, SEEN, DeviceRecords, DeviceState
from fulcrum.client.store import (
    COMPACT_MIN_BYTES,
    COMPACT_RATIO,
    HomeError,
    RecordLog,
    StoreCorrupted,
    fsync_dir,
)
from fulcrum.e2ee import DeviceAccount, GroupReceiver, GroupSender, OlmSessions
from fulcrum.e2ee.at_rest import (
    DEFAULT_LOG2_N,
    new_data_key,
    new_salt,
    new_store_id,
    open_state,
    pickle_key,
    read_key_header,
    read_salt,
    storage_key,
    unwrap_data_key,
    wrap_data_key,
)
from fulcrum.wire.api import EnvelopeIn

KEY_FILE = "store.key"
LOG_FILE = "store.log"
STATE_FILE = "state.fulcrum"  # the earlier whole-state format, converted at first open
DEVICE_FILE = "device.json"

__all__ = [
    "DEVICE_FILE",
    "KEY_FILE",
    "LOG_FILE",
    "STATE_FILE",
    "DeviceHome",
    "DeviceState",
    "HomeError",
    "StoreCorrupted",
    "outbox_entry",
]


class DeviceHome:
    def __init__(
        self,
        path: Path,
        *,
        log2_n: int = DEFAULT_LOG2_N,
        compact_ratio: float = COMPACT_RATIO,
        compact_min_bytes: int = COMPACT_MIN_BYTES,
    ) -> None:
        self.path = path
        self.log2_n = log2_n
        self.compact_ratio = compact_ratio
        self.compact_min_bytes = compact_min_bytes
        self._salt: bytes | None = None
        self._kek: bytes | None = None
        self._store_id: bytes | None = None
        self._data_key: bytes | None = None
        self._log: RecordLog | None = None
        self._records: DeviceRecords | None = None
        self._public: bytes | None = None
        self._lock: IO[str] | None = None

    def __repr__(self) -> str:
        return f"DeviceHome(path={str(self.path)!r})"

    @property
    def files_dir(self) -> Path:
        return self.path / "files"

    @property
    def log(self) -> RecordLog | None:
        """The open record log (after ``load`` or the first ``save``)."""
        return self._log

    def exists(self) -> bool:
        return (self.path / KEY_FILE).exists() or (self.path / STATE_FILE).exists()

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
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def unlock_with(self, passphrase: str) -> None:
        """Derive the passphrase key (the slow step) and unwrap the data key with it; a wrong
        passphrase raises ``WrongPassphrase``. A new home picks a fresh salt and data key."""
        key_path, state_path = self.path / KEY_FILE, self.path / STATE_FILE
        if key_path.exists():
            blob = key_path.read_bytes()
            self._salt, self.log2_n, self._store_id = read_key_header(blob)
            self._kek = storage_key(passphrase, self._salt, self.log2_n)
            self._data_key = unwrap_data_key(self._kek, blob)
            return
        if state_path.exists():  # earlier format: same KDF and salt; converted in load()
            self._salt, self.log2_n = read_salt(state_path.read_bytes())
        else:
            self._salt = new_salt()
        self._kek = storage_key(passphrase, self._salt, self.log2_n)
        self._store_id, self._data_key = new_store_id(), new_data_key()

    def change_passphrase(self, new_passphrase: str, *, log2_n: int | None = None) -> None:
        """Re-wrap the data key under a key derived from ``new_passphrase`` (fresh salt); the
        log is untouched. The home must be unlocked and saved at least once."""
        _, store_id, data_key = self._require_key()
        if not (self.path / KEY_FILE).exists():
            raise HomeError("save the device once before changing its passphrase")
        salt, cost = new_salt(), self.log2_n if log2_n is None else log2_n
        kek = storage_key(new_passphrase, salt, cost)
        self._write_key_file(wrap_data_key(kek, salt, cost, store_id, data_key))
        self._salt, self._kek, self.log2_n = salt, kek, cost

    def _require_key(self) -> tuple[bytes, bytes, bytes]:
        if self._kek is None or self._store_id is None or self._data_key is None:
            raise HomeError("home is locked; call unlock_with(passphrase) first")
        return self._kek, self._store_id, self._data_key

    def _log_kw(self) -> dict[str, Any]:
        return {"compact_ratio": self.compact_ratio, "compact_min_bytes": self.compact_min_bytes}

    # --- saving -----------------------------------------------------------------------------

    def save(self, core: ClientCore, state: DeviceState) -> None:
        """Append what changed since the last save as one durable (fsynced) batch."""
        kek, store_id, data_key = self._require_key()
        first = self._log is None
        if self._log is None or self._records is None:
            if (self.path / KEY_FILE).exists():
                raise HomeError("load() the existing device before saving over it")
            self.path.mkdir(parents=True, exist_ok=True)
            self._log = RecordLog.create(self.path / LOG_FILE, store_id, data_key, **self._log_kw())
            self._records = DeviceRecords(pickle_key(data_key))
        records = self._records.changes(core, state)
        self._log.write(records)
        self._records.apply(records)
        self._records.saved(core)
        if first:  # the key file last: a home "exists" only once its first batch is durable
            assert self._salt is not None
            self._write_key_file(wrap_data_key(kek, self._salt, self.log2_n, store_id, data_key))
        if self._log.compaction_due():
            self._log.compact()
        public = {"account": core.account, "device_id": core.device_id, "server": state.server}
        encoded = json.dumps(public, indent=2).encode()
        if encoded != self._public:
            _atomic_write(self.path / DEVICE_FILE, encoded)
            self._public = encoded

    def save_file(self, path: Path, data: bytes) -> None:
        """Write a received attachment durably (fsynced, like the log) before it is acknowledged:
        the relay drops the ciphertext once every device acked."""
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, data)

    def _write_key_file(self, blob: bytes) -> None:
        _atomic_write(self.path / KEY_FILE, blob)

    # --- loading ----------------------------------------------------------------------------

    def load(self) -> tuple[ClientCore, DeviceState]:
        kek, store_id, data_key = self._require_key()
        if not (self.path / KEY_FILE).exists():
            if (self.path / STATE_FILE).exists():
                return self._convert(kek)
            raise HomeError(f"no Fulcrum device in {self.path}; run `fulcrum account create`")
        stale = self.path / (LOG_FILE + ".tmp")  # a compaction that did not finish
        stale.unlink(missing_ok=True)
        try:
            self._log = RecordLog.open(self.path / LOG_FILE, store_id, data_key, **self._log_kw())
        except FileNotFoundError as exc:
            raise HomeError(f"{self.path} has a key but no {LOG_FILE}") from exc
        self._records = DeviceRecords(pickle_key(data_key))
        self._records.apply(_replay_order(self._log.items()), loading=True)
        if self._lock is not None and self._log.compaction_due():
            self._log.compact()  # packs what was saved one message at a time
        self._log.release()
        (self.path / STATE_FILE).unlink(missing_ok=True)  # left by a conversion cut short
        return self._records.build()

    def _convert(self, kek: bytes) -> tuple[ClientCore, DeviceState]:
        """Open a home in the whole-state format and rewrite it as a record store, once."""
        state_path = self.path / STATE_FILE
        core, state = legacy_load(kek, state_path.read_bytes())
        self.save(core, state)
        state_path.unlink()
        fsync_dir(self.path)
        return core, state


def _replay_order(records: Iterable[tuple[int, str, Any]]) -> list[tuple[int, str, Any]]:
    """Replay-set chunks in chunk order (chunk "0" may replace the set); the rest as they come."""
    chunks: list[tuple[int, str, Any]] = []
    out: list[tuple[int, str, Any]] = []
    for record in records:
        (chunks if record[0] in (SEEN, GROUP_SEEN) else out).append(record)
    chunks.sort(key=lambda r: (r[0], int(r[1])))
    return out + chunks


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def legacy_load(kek: bytes, blob: bytes) -> tuple[ClientCore, DeviceState]:
    """The core and device state of a ``state.fulcrum`` blob (the earlier whole-state format)."""
    data = json.loads(open_state(kek, blob))
    pk = pickle_key(kek)
    device = DeviceAccount.from_pickle(data["device"], pk)
    core = ClientCore(
        account=data["account"],
        device_id=data["device_id"],
        device=device,
        sessions=OlmSessions.from_pickle(device, data["sessions"], pk),
        group_receiver=GroupReceiver.from_pickle(data["group_receiver"], pk),
        group_senders={g: GroupSender.from_pickle(s, pk) for g, s in data["group_senders"].items()},
        group_shared_with={g: set(s) for g, s in data["group_shared_with"].items()},
        directory={
            account: {d: DeviceRecord(account, d, keys[0], keys[1]) for d, keys in devices.items()}
            for account, devices in data["directory"].items()
        },
        history=data["history"],
        seen=set(data["seen"]),
        layer_state=data["layer_state"],
        rejected_count=data["rejected_count"],
    )
    state = DeviceState(data["server"], data["token"], data["outbox"], data["last_seq"])
    return core, state


def outbox_entry(envelope: EnvelopeIn) -> dict[str, Any]:
    return envelope.model_dump(mode="json")

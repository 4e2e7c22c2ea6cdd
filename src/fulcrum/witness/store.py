"""The data directory of a stand-alone witness: its key and its durable ``WitnessState``.

Files: ``witness.key`` (``name`` and the base64url Ed25519 seed, mode 0600, never logged) and
``state.json`` (``WitnessState.to_bytes``). The state is replaced atomically (write a temporary
file, fsync, rename, fsync the directory) under an exclusive ``flock`` so that two processes on one
data dir cannot both cosign from the same old state.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from fulcrum.encoding import b64d, b64e
from fulcrum.hazmat.signing import SigningKey
from fulcrum.translog import CosignatureSigner, WitnessState

KEY_FILE = "witness.key"
STATE_FILE = "state.json"
_LOCK_FILE = "state.lock"

T = TypeVar("T")


class WitnessStoreError(ValueError):
    """The witness data directory is unusable (wrong name, unreadable key)."""


class WitnessStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def __repr__(self) -> str:
        return f"WitnessStore({self.directory})"

    def signer(self, name: str | None = None) -> CosignatureSigner:
        """The witness key, created on first use with ``name`` (required then)."""
        path = self.directory / KEY_FILE
        if not path.exists():
            if name is None:
                raise WitnessStoreError(f"no witness key in {self.directory}: pass --name")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(f"{name}\n{b64e(SigningKey.generate().seed)}\n")
        try:
            stored_name, seed = path.read_text().split()
            signer = CosignatureSigner(stored_name, SigningKey(b64d(seed, length=32)))
        except ValueError as exc:
            raise WitnessStoreError(f"unreadable witness key in {path}") from exc
        if name is not None and name != stored_name:
            raise WitnessStoreError(f"witness key in {path} is for {stored_name!r}, not {name!r}")
        return signer

    def load(self) -> WitnessState:
        path = self.directory / STATE_FILE
        return WitnessState.from_bytes(path.read_bytes()) if path.exists() else WitnessState()

    def _save(self, state: WitnessState) -> None:
        tmp = self.directory / (STATE_FILE + ".tmp")
        with open(tmp, "wb") as f:
            f.write(state.to_bytes())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.directory / STATE_FILE)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.directory / _LOCK_FILE, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def update(self, step: Callable[[WitnessState], tuple[WitnessState, T]]) -> T:
        """Run ``step`` on the current state under the lock; durably save its new state, then
        return its result (so a cosignature is only released after its state is on disk)."""
        with self._locked():
            state, result = step(self.load())
            self._save(state)
            return result

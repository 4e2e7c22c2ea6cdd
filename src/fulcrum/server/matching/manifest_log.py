"""Bank manifests in the platform's transparency log.

The platform appends each signed manifest it serves as a ``BankManifest`` log entry (once per
manifest digest): on publish when the custodian runs in this process, or on first fetch when
the custodian is a separate process reached over HTTP. Clients then ask
``/v1/matching/manifest/log`` for the entry's inclusion proof in a cosigned checkpoint and refuse
any manifest (and so any VOPRF key) that is not logged.

Which digest sits at which index is found by scanning the log's ``BankManifest`` entries once
per process (then cached); appends from other processes are found by the same scan.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from fulcrum.encoding import b64e
from fulcrum.matching import MATCHING_BANK_ID, BankManifest, log_entry
from fulcrum.server.translog import TransparencyLog
from fulcrum.translog import BankManifest as LoggedManifest
from fulcrum.translog import LogEntryError, parse_entry
from fulcrum.wire.matching import ManifestLogOut

_PAGE = 1000


class ManifestNotLogged(LookupError):
    """No log is configured, or this manifest was never appended to it."""


class ManifestLog:
    """Appends manifests to the log (idempotently) and serves their inclusion evidence."""

    def __init__(
        self,
        log: Callable[[], TransparencyLog | None],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._log = log
        self.clock = clock
        self._indices: dict[bytes, int] = {}
        self._scanned = 0
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"ManifestLog(known={len(self._indices)})"

    def _scan(self, log: TransparencyLog) -> None:
        size = log.size()
        while self._scanned < size:
            end = min(size, self._scanned + _PAGE)
            for offset, data in enumerate(log.entries(self._scanned, end)):
                if b'"BankManifest"' not in data:
                    continue
                try:
                    entry = parse_entry(data)
                except LogEntryError:
                    continue
                if isinstance(entry, LoggedManifest) and entry.bank_id == MATCHING_BANK_ID:
                    self._indices.setdefault(entry.manifest_digest, self._scanned + offset)
            self._scanned = end

    def find(self, digest: bytes) -> int | None:
        """The log index of the manifest with this core digest, or None."""
        log = self._log()
        if log is None:
            return None
        with self._lock:
            if digest not in self._indices:
                self._scan(log)
            return self._indices.get(digest)

    def record(self, manifest: BankManifest) -> int | None:
        """Append ``manifest`` unless it is logged already; returns its index (None: no log)."""
        log = self._log()
        if log is None:
            return None
        with self._lock:
            found = self.find(manifest.core_digest())
            if found is not None:
                return found
            index = log.append(log_entry(manifest, int(self.clock())))
            self._indices[manifest.core_digest()] = index
            return index

    def evidence(self, digest: bytes) -> ManifestLogOut:
        """The entry of the manifest with this core digest, its inclusion proof and the cosigned
        checkpoint it is under (``ManifestNotLogged`` if absent; ``CheckpointRefused`` if the
        witnesses do not reach a quorum)."""
        log = self._log()
        index = self.find(digest)
        if log is None or index is None:
            raise ManifestNotLogged("this bank manifest is not in the transparency log")
        checkpoint = log.checkpoint()
        _, proof = log.inclusion_proof(index, checkpoint.size)
        entry = log.entries(index, index + 1)[0]
        return ManifestLogOut(
            log_index=index,
            entry=b64e(entry),
            inclusion=[b64e(p) for p in proof],
            checkpoint=checkpoint.note.decode("utf-8"),
            log_vkey=log.verifier.vkey,
            witness_vkeys=[w.vkey for w in log.witness_verifiers()],
            min_witnesses=log.min_witnesses,
        )

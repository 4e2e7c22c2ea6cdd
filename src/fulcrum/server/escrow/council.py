"""The trustees run in-process: DKG per epoch, signed bundles, EpochKey and ShareDestroyed entries.

Every trustee has its own ``TrusteeKeyStore`` under ``<data_dir>/escrow/trustees/<name>``. The
public record of each epoch (bundle, trustee signatures and keys, log index) is kept in
``<data_dir>/escrow/epochs/<epoch>.json``; it holds no secret.

By default every trustee runs in this process (demo, tests, development). With a
``DkgCoordinator`` (every trustee of the policy runs ``fulcrum trustee serve`` on its own host; see
``coordinator.py``) the DKG runs in the trustees' processes instead: this process only relays
their signed messages and sealed shares, keeps no share, and logs the bundle they signed with the
same ``EpochKey`` entry and epoch record.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fulcrum.encoding import b64d, b64e, domain_message
from fulcrum.escrow import (
    EpochKeyBundle,
    EpochKeySignature,
    run_dkg,
    sign_epoch_key_bundle,
)
from fulcrum.escrow.errors import DkgError
from fulcrum.hazmat.symmetric import sha256
from fulcrum.server.escrow.coordinator import DkgCoordinator, RemoteDkgOutcome
from fulcrum.server.escrow.destruction import (
    DestructionReport,
    collect_statements,
    keep_statement,
)
from fulcrum.server.escrow.policy import EscrowPolicy
from fulcrum.server.translog import TransparencyLog
from fulcrum.translog import EpochKey, ShareDestroyed
from fulcrum.trustee.keystore import TrusteeKeyStore
from fulcrum.wire.translog import EpochKeyOut, EpochKeySignatureOut

DESTROY_LABEL = "fulcrum/escrow/share-destroyed/v1"


@dataclass(frozen=True)
class EpochRecord:
    bundle: EpochKeyBundle
    signatures: tuple[EpochKeySignature, ...]
    trustee_names: tuple[str, ...]
    trustee_keys: tuple[bytes, ...]
    log_index: int

    def to_json(self) -> dict[str, Any]:
        return {
            "bundle": b64e(self.bundle.to_bytes()),
            "signatures": [[s.trustee_index, b64e(s.signature)] for s in self.signatures],
            "trustee_names": list(self.trustee_names),
            "trustee_keys": [b64e(k) for k in self.trustee_keys],
            "log_index": self.log_index,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> EpochRecord:
        sigs, names, keys, index = (
            obj["signatures"],
            obj["trustee_names"],
            obj["trustee_keys"],
            int(obj["log_index"]),
        )
        return cls(
            EpochKeyBundle.from_bytes(b64d(str(obj["bundle"]))),
            tuple(EpochKeySignature(int(i), b64d(str(s))) for i, s in sigs),
            tuple(str(n) for n in names),
            tuple(b64d(str(k), length=32) for k in keys),
            index,
        )


def epoch_key_entry(record: EpochRecord, now: int) -> EpochKey:
    """The log entry for an epoch key (times in the bundle's milliseconds)."""
    b = record.bundle
    return EpochKey(
        time=now,
        epoch=b.epoch,
        public_key=b.group_key.to_bytes(),
        threshold=b.threshold,
        trustees=record.trustee_names,
        valid_from=b.valid_from,
        valid_until=b.valid_until,
    )


class TrusteeCouncil:
    """All trustees of one policy, run in this process."""

    def __init__(
        self,
        policy: EscrowPolicy,
        root: Path,
        log: TransparencyLog,
        clock: Callable[[], float] = time.time,
        coordinator: DkgCoordinator | None = None,
    ) -> None:
        self.policy = policy
        self.root = root
        self.log = log
        self.clock = clock
        self.coordinator = coordinator
        self.last_dkg: RemoteDkgOutcome | None = None  # the remote DKG's public outcome
        self.stores = [TrusteeKeyStore(root / "trustees" / n, n) for n in policy.trustees]
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        where = "remote" if self.coordinator else "in-process"
        return f"TrusteeCouncil(n={self.policy.n}, t={self.policy.t}, {where})"

    @property
    def remote(self) -> bool:
        return self.coordinator is not None

    def init(self) -> list[bytes]:
        """Create every in-process trustee's identity key (idempotent); return the public keys.
        Remote trustees keep their keys on their own hosts: their pinned keys are returned."""
        if self.coordinator is not None:
            pinned = self.coordinator.roster.load()
            return [pinned[n].identity_key for n in self.policy.trustees if n in pinned]
        return [s.identity().public_key().raw for s in self.stores]

    def identity_keys(self) -> dict[str, bytes]:
        """Each trustee's public identity key by name (pinned roster, or the local stores)."""
        if self.coordinator is not None:
            return {n: e.identity_key for n, e in self.coordinator.roster.load().items()}
        return {s.name: s.identity().public_key().raw for s in self.stores}

    def _record_path(self, epoch: int) -> Path:
        return self.root / "epochs" / f"{epoch}.json"

    def record(self, epoch: int) -> EpochRecord | None:
        path = self._record_path(epoch)
        if not path.exists():
            return None
        return EpochRecord.from_json(json.loads(path.read_text()))

    def epochs(self) -> list[int]:
        folder = self.root / "epochs"
        return sorted(int(p.stem) for p in folder.glob("*.json")) if folder.exists() else []

    def ensure_epoch(self, epoch: int) -> EpochRecord:
        """The epoch's record; runs the DKG, signs and logs the key the first time."""
        with self._lock:
            existing = self.record(epoch)
            if existing is not None:
                return existing
            return self._run_dkg(epoch)

    def current(self) -> EpochRecord:
        return self.ensure_epoch(self.policy.epoch_at(self.clock()))

    def _run_dkg(self, epoch: int) -> EpochRecord:
        if self.coordinator is not None:
            return self._log_record(epoch, *self._run_remote_dkg(epoch))
        results = run_dkg(self.policy.n, self.policy.t, epoch)
        if len({r.transcript_hash for r in results}) != 1:
            raise DkgError("trustees disagree on the DKG transcript")
        valid_from, valid_until = self.policy.window_ms(epoch)
        bundle = EpochKeyBundle.from_dkg(results[0], valid_from=valid_from, valid_until=valid_until)
        signatures = []
        for store, result in zip(self.stores, results, strict=True):
            store.save_share(result.share)
            signatures.append(sign_epoch_key_bundle(bundle, result.share.index, store.identity()))
        keys = tuple(s.identity().public_key().raw for s in self.stores)
        return self._log_record(epoch, bundle, tuple(signatures), keys)

    def _run_remote_dkg(
        self, epoch: int
    ) -> tuple[EpochKeyBundle, tuple[EpochKeySignature, ...], tuple[bytes, ...]]:
        assert self.coordinator is not None
        outcome = self.coordinator.run(epoch, *self.policy.window_ms(epoch))
        self.last_dkg = outcome
        return outcome.bundle, outcome.signatures, outcome.trustee_keys

    def _log_record(
        self,
        epoch: int,
        bundle: EpochKeyBundle,
        signatures: tuple[EpochKeySignature, ...],
        keys: tuple[bytes, ...],
    ) -> EpochRecord:
        names = self.policy.trustees
        draft = EpochRecord(bundle, tuple(signatures), names, keys, 0)
        index = self.log.append(epoch_key_entry(draft, int(self.clock())))
        record = EpochRecord(bundle, tuple(signatures), names, keys, index)
        path = self._record_path(epoch)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record.to_json(), indent=2))
        self.log.checkpoint()
        return record

    def evidence(self, record: EpochRecord) -> EpochKeyOut:
        """The record with the EpochKey entry's inclusion proof in a cosigned checkpoint."""
        cp = self.log.checkpoint()
        _, proof = self.log.inclusion_proof(record.log_index, cp.size)
        entry = self.log.entries(record.log_index, record.log_index + 1)[0]
        return EpochKeyOut(
            epoch=record.bundle.epoch,
            bundle=b64e(record.bundle.to_bytes()),
            signatures=[
                EpochKeySignatureOut(trustee_index=s.trustee_index, signature=b64e(s.signature))
                for s in record.signatures
            ],
            trustee_names=list(record.trustee_names),
            trustee_keys=[b64e(k) for k in record.trustee_keys],
            log_index=record.log_index,
            entry=b64e(entry),
            inclusion=[b64e(p) for p in proof],
            checkpoint=cp.note.decode("utf-8"),
        )

    def destroy(self, epoch: int, trustees: Sequence[str] | None = None) -> list[int]:
        """Destroy shares of ``epoch`` (all trustees by default); log each; return log indices.
        With a remote council each trustee decides by its own retention rule (``destroy_remote``
        says who refused and why)."""
        if self.coordinator is not None:
            return list(self.destroy_remote(epoch, trustees).indices)
        indices = []
        for store in self.stores:
            if trustees is not None and store.name not in trustees:
                continue
            vk = b""
            if store.has_share(epoch):
                vk = store.share(epoch).verification_key.to_bytes()
            if not store.destroy(epoch):
                continue
            digest = sha256(
                domain_message(DESTROY_LABEL, epoch.to_bytes(8, "big"), store.name.encode(), vk)
            )
            entry = ShareDestroyed(
                time=int(self.clock()),
                epoch=epoch,
                trustee_id=store.name,
                attestation_digest=digest,
            )
            indices.append(self.log.append(entry))
        if indices:
            self.log.checkpoint()
        return indices

    def destroy_remote(
        self, epoch: int, trustees: Sequence[str] | None = None
    ) -> DestructionReport:
        """Ask the remote trustees to destroy their shares of ``epoch``; log a ``ShareDestroyed``
        entry for each signed statement that verifies under the pinned key (once per trustee)."""
        assert self.coordinator is not None
        record = self.record(epoch)
        if record is None:
            names = trustees if trustees is not None else self.policy.trustees
            return DestructionReport((), dict.fromkeys(names, f"epoch {epoch} was never keyed"))
        with self._lock:
            accepted, refused = collect_statements(self.coordinator, self.root, epoch,
                                                   record.bundle, trustees)  # fmt: skip
            indices = []
            for name in self.policy.trustees:
                signed = accepted.get(name)
                if signed is None:
                    continue
                entry = ShareDestroyed(time=int(self.clock()), epoch=epoch, trustee_id=name,
                                       attestation_digest=signed.attestation_digest)  # fmt: skip
                indices.append(self.log.append(entry))
                keep_statement(self.root, signed)
            if indices:
                self.log.checkpoint()
        return DestructionReport(tuple(indices), refused)

    def destroy_expired(self) -> list[int]:
        """Destroy every share whose epoch ended more than the retention period ago."""
        now_ms = int(self.clock() * 1000)
        out = []
        for epoch in self.epochs():
            record = self.record(epoch)
            if record is None:
                continue
            if record.bundle.valid_until + self.policy.retention_seconds * 1000 <= now_ms:
                out.extend(self.destroy(epoch))
        return out

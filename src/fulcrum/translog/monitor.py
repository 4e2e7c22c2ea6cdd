"""The auditor's core (no I/O): mirror entries, check checkpoints, report findings.

``fulcrum audit verify`` fetches checkpoints, entries and proofs and feeds them to a ``LogMonitor``;
everything it concludes is in the ``AuditReport``. Checks:

* each checkpoint: log signature, origin, witness quorum (if witnesses are configured);
* each checkpoint against the mirror: the mirrored entries must hash to its root (else an entry was
  tampered with or history rewritten);
* checkpoints against each other: two roots for one size is a split view; a smaller checkpoint
  after a larger one is a rollback; beyond the mirror, a consistency proof from the largest
  verified checkpoint must verify;
* entries: each leaf must be a valid canonical entry, then the policy rules of ``rules.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fulcrum.translog.checkpoint import Checkpoint, open_checkpoint
from fulcrum.translog.entries import LogEntry, parse_entry
from fulcrum.translog.errors import (
    CheckpointError,
    CosignatureQuorumError,
    LogEntryError,
    NoteError,
    ProofError,
)
from fulcrum.translog.findings import INFORMATIONAL, Finding, FindingKind
from fulcrum.translog.merkle import verify_consistency
from fulcrum.translog.note import Verifier
from fulcrum.translog.rules import ManifestCheck, check_entries, count_by_type
from fulcrum.translog.tree import InMemoryTree
from fulcrum.translog.witness import CosignatureVerifier, verify_cosigned_checkpoint


@dataclass(frozen=True)
class AuditReport:
    findings: tuple[Finding, ...]
    entries: int  # mirrored entries
    checkpoints: int  # checkpoints observed
    latest: Checkpoint | None  # largest checkpoint that passed every check
    counts: dict[str, int]  # entries per type in the mirror

    @property
    def ok(self) -> bool:
        """No finding other than informational ones."""
        return all(f.kind in INFORMATIONAL for f in self.findings)


class LogMonitor:
    """Stateful, I/O-free auditor of one log. Feed it entries and checkpoints in fetch order."""

    def __init__(
        self,
        log_verifier: Verifier,
        witness_verifiers: Sequence[CosignatureVerifier] = (),
        min_witnesses: int = 2,
        trusted: Checkpoint | None = None,
        manifest_check: ManifestCheck | None = None,
    ) -> None:
        """``trusted`` is the last checkpoint verified in an earlier run (consistency anchor).

        With no ``witness_verifiers`` the quorum check is off (a development log); production
        monitors pass the configured witnesses.
        """
        self._log = log_verifier
        self._witnesses = list(witness_verifiers)
        self._min_witnesses = min_witnesses if self._witnesses else 0
        self._manifest_check = manifest_check
        self._tree = InMemoryTree()
        self._entries: list[tuple[int, LogEntry]] = []
        self._roots: dict[int, bytes] = {}
        self._largest = trusted
        self._findings: list[Finding] = []
        self._observed = 0
        if trusted is not None:
            self._roots[trusted.size] = trusted.root_hash

    @property
    def mirrored(self) -> int:
        return self._tree.size()

    def add_entries(self, entries: Iterable[bytes]) -> list[Finding]:
        """Append leaf bytes (in log order) to the mirror."""
        new: list[Finding] = []
        for data in entries:
            index = self._tree.append(data)
            try:
                self._entries.append((index, parse_entry(data)))
            except LogEntryError as exc:
                new.append(Finding(FindingKind.MALFORMED_ENTRY, str(exc), entry=index))
        self._findings.extend(new)
        return new

    def observe(self, note: bytes, proof: Sequence[bytes] | None = None) -> list[Finding]:
        """Check one fetched checkpoint note.

        ``proof`` is a consistency proof from the largest checkpoint verified so far to this one,
        needed only when this checkpoint is beyond the mirror.
        """
        position = self._observed
        self._observed += 1
        new = self._observe(position, note, proof)
        self._findings.extend(new)
        return new

    def _open(self, position: int, note: bytes) -> Checkpoint | Finding:
        try:
            if self._min_witnesses:
                return verify_cosigned_checkpoint(
                    note, self._log, self._witnesses, self._min_witnesses
                ).checkpoint
            return open_checkpoint(note, self._log).checkpoint
        except CosignatureQuorumError as exc:
            return Finding(FindingKind.QUORUM_NOT_MET, str(exc), checkpoint=position)
        except (CheckpointError, NoteError) as exc:
            return Finding(FindingKind.BAD_CHECKPOINT, str(exc), checkpoint=position)

    def _observe(self, pos: int, note: bytes, proof: Sequence[bytes] | None) -> list[Finding]:
        opened = self._open(pos, note)
        if isinstance(opened, Finding):
            return [opened]
        cp = opened
        out: list[Finding] = []
        known = self._roots.get(cp.size)
        if known is not None and known != cp.root_hash:
            out.append(Finding(FindingKind.SPLIT_VIEW, f"two signed roots for size {cp.size}", pos))
        if cp.size <= self._tree.size():
            if self._tree.root_hash(cp.size) != cp.root_hash:
                out.append(
                    Finding(
                        FindingKind.ROOT_MISMATCH,
                        f"mirrored entries do not hash to the root of size {cp.size}: "
                        "an entry was altered or history rewritten",
                        pos,
                    )
                )
        else:
            out.append(
                Finding(
                    FindingKind.INCOMPLETE_MIRROR,
                    f"size {cp.size} is beyond the {self._tree.size()} mirrored entries",
                    pos,
                )
            )
        largest = self._largest
        if largest is not None and cp.size < largest.size:
            out.append(
                Finding(
                    FindingKind.ROLLBACK,
                    f"checkpoint of size {cp.size} after one of size {largest.size}",
                    pos,
                )
            )
        elif largest is not None and cp.size > largest.size and cp.size > self._tree.size():
            out.extend(self._check_proof(pos, largest, cp, proof))
        if known is None:
            self._roots[cp.size] = cp.root_hash
        if not [f for f in out if f.kind not in INFORMATIONAL] and (
            largest is None or cp.size > largest.size
        ):
            self._largest = cp
        return out

    @staticmethod
    def _check_proof(
        pos: int, old: Checkpoint, new: Checkpoint, proof: Sequence[bytes] | None
    ) -> list[Finding]:
        if old.size == 0:
            return []
        if proof is None:
            return [
                Finding(
                    FindingKind.INCOMPLETE_MIRROR,
                    f"no consistency proof from size {old.size} to {new.size}",
                    pos,
                )
            ]
        try:
            verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)
        except ProofError as exc:
            return [
                Finding(
                    FindingKind.INCONSISTENT,
                    f"size {old.size} -> {new.size}: {exc}",
                    pos,
                )
            ]
        return []

    def report(self) -> AuditReport:
        """All findings so far, with the entry-policy rules run over the mirror."""
        rules = check_entries(self._entries, self._manifest_check)
        return AuditReport(
            findings=(*self._findings, *rules),
            entries=self._tree.size(),
            checkpoints=self._observed,
            latest=self._largest,
            counts=count_by_type(e for _, e in self._entries),
        )


def audit_log(
    log_verifier: Verifier,
    checkpoints: Sequence[bytes],
    entries: Sequence[bytes],
    witness_verifiers: Sequence[CosignatureVerifier] = (),
    min_witnesses: int = 2,
    trusted: Checkpoint | None = None,
) -> AuditReport:
    """One-shot audit: mirror ``entries`` then check each checkpoint in order."""
    monitor = LogMonitor(log_verifier, witness_verifiers, min_witnesses, trusted)
    monitor.add_entries(entries)
    for note in checkpoints:
        monitor.observe(note)
    return monitor.report()

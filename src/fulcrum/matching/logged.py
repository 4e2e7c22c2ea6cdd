"""Bank manifests in the transparency log: the entry, the client's inclusion check and the
auditor's source co-signature check. No I/O: bytes in, verdicts out.

* ``log_entry(manifest, now)``: the ``BankManifest`` log entry for a signed manifest (its core
  digest, epoch, entry count, and each source's co-signature).
* ``verify_logged(manifest, inclusion, keys)``: a client accepts a manifest (and so a VOPRF key)
  only if this entry is in the log under a checkpoint cosigned by a quorum of pinned witnesses.
* ``source_signature_check(trust)``: the ``manifest_check`` hook of ``translog.LogMonitor`` —
  every logged manifest must carry valid co-signatures of enough known sources.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fulcrum.matching.errors import ManifestError
from fulcrum.matching.manifest import BankManifest, ManifestTrust, manifest_signed_message
from fulcrum.translog import BankManifest as LoggedManifest
from fulcrum.translog import (
    CosignatureVerifier,
    TranslogError,
    leaf_hash,
    parse_entry,
    verifier_from_vkey,
    verify_cosigned_checkpoint,
    verify_inclusion,
)

MATCHING_BANK_ID = "fulcrum-matching"


def log_entry(manifest: BankManifest, now: int, bank_id: str = MATCHING_BANK_ID) -> LoggedManifest:
    """The log entry for a signed manifest; ``version`` is the epoch."""
    if not manifest.source_signatures:
        raise ManifestError("a manifest is logged only with its sources' co-signatures")
    return LoggedManifest(
        time=now,
        bank_id=bank_id,
        version=manifest.epoch,
        manifest_digest=manifest.core_digest(),
        entry_count=manifest.entry_count,
        sources=tuple(name for name, _ in manifest.source_signatures),
        source_signatures=tuple(sig for _, sig in manifest.source_signatures),
    )


@dataclass(frozen=True)
class LogKeys:
    """The log and witness keys a client pins (``/v1/log/keys`` vkey strings)."""

    log_vkey: str
    witness_vkeys: tuple[str, ...]
    min_witnesses: int = 2

    def __post_init__(self) -> None:
        if self.min_witnesses < 1 or len(self.witness_vkeys) < self.min_witnesses:
            raise ManifestError("fewer pinned witness keys than the quorum")


@dataclass(frozen=True)
class ManifestInclusion:
    """Where a manifest sits in the log: its entry, an inclusion proof and a cosigned checkpoint
    (the proof is for the checkpoint's tree size)."""

    log_index: int
    entry: bytes = field(repr=False)
    proof: tuple[bytes, ...] = field(repr=False)
    checkpoint: bytes = field(repr=False)


def verify_logged(manifest: BankManifest, inclusion: ManifestInclusion, keys: LogKeys) -> int:
    """Raise ``ManifestError`` unless ``manifest`` is the logged entry at ``log_index`` under a
    checkpoint cosigned by ``keys.min_witnesses`` pinned witnesses; returns the tree size."""
    try:
        log_verifier = verifier_from_vkey(keys.log_vkey)
        witnesses = [CosignatureVerifier.from_vkey(v) for v in keys.witness_vkeys]
        cosigned = verify_cosigned_checkpoint(
            inclusion.checkpoint, log_verifier, witnesses, keys.min_witnesses
        )
        size, root = cosigned.checkpoint.size, cosigned.checkpoint.root_hash
        if not 0 <= inclusion.log_index < size:
            raise ManifestError("the manifest's log index is beyond the checkpoint")
        verify_inclusion(
            leaf_hash(inclusion.entry), inclusion.log_index, size, list(inclusion.proof), root
        )
        entry = parse_entry(inclusion.entry)
    except TranslogError as exc:
        raise ManifestError(f"manifest log evidence does not verify: {exc}") from exc
    except ValueError as exc:
        if isinstance(exc, ManifestError):
            raise
        raise ManifestError(f"malformed log evidence: {exc}") from exc
    if not isinstance(entry, LoggedManifest):
        raise ManifestError("the logged entry is not a bank manifest")
    expected = log_entry(manifest, entry.time, entry.bank_id)
    if entry != expected:
        raise ManifestError("the logged entry names another manifest")
    return size


def source_signature_check(trust: ManifestTrust) -> Callable[[LoggedManifest], bool]:
    """For ``LogMonitor(manifest_check=...)``: every listed source must be known and its
    signature valid over the logged digest, and at least ``min_source_signatures`` of them."""

    def check(entry: LoggedManifest) -> bool:
        return _sources_valid(entry.manifest_digest, entry.sources, entry.source_signatures, trust)

    return check


def _sources_valid(
    digest: bytes, sources: Sequence[str], signatures: Sequence[bytes], trust: ManifestTrust
) -> bool:
    if len(sources) != len(signatures) or len(set(sources)) != len(sources):
        return False
    message = manifest_signed_message(digest)
    for name, sig in zip(sources, signatures, strict=True):
        key = trust.source_keys.get(name)
        if key is None or not key.is_valid(sig, message):
            return False
    return len(sources) >= trust.min_source_signatures

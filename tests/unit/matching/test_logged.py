"""Bank manifests in the transparency log: client inclusion check and the auditor's hook."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fulcrum.hazmat.signing import SigningKey
from fulcrum.matching import (
    BankManifest,
    LogKeys,
    ManifestError,
    ManifestInclusion,
    ManifestTrust,
    log_entry,
    source_signature_check,
    verify_logged,
)
from fulcrum.matching.custodian import Custodian
from fulcrum.translog import (
    Checkpoint,
    CosignatureSigner,
    FindingKind,
    InMemoryTree,
    LogMonitor,
    NoteSigner,
    Witness,
    WitnessState,
    add_signatures,
    encode_entry,
    inclusion_proof,
    sign_checkpoint,
)

pytestmark = pytest.mark.unit

T = 1_750_000_000
LOG = NoteSigner("log.fulcrum.test/v1", SigningKey(b"\x31" * 32))
WITNESSES = [
    CosignatureSigner(f"w{n}.fulcrum.test", SigningKey(bytes([40 + n]) * 32)) for n in (1, 2, 3)
]
KEYS = LogKeys(LOG.verifier().vkey, tuple(w.verifier().vkey for w in WITNESSES), 2)
SOURCES = {"hotline-a": SigningKey(b"\x02" * 32), "hotline-b": SigningKey(b"\x03" * 32)}
CUSTODIAN = SigningKey(b"\x01" * 32)
TRUST = ManifestTrust(CUSTODIAN.public_key(), {n: k.public_key() for n, k in SOURCES.items()})


def manifest(epoch: int) -> BankManifest:
    release = Custodian(b"\x04" * 32, CUSTODIAN).publish_epoch(epoch, [], m=8)
    out = release.manifest
    for name, key in SOURCES.items():
        out = out.cosigned(name, key)
    return out


def cosigned_note(tree: InMemoryTree, who: tuple[int, ...] = (0, 1)) -> bytes:
    size = tree.size()
    note = sign_checkpoint(Checkpoint(LOG.name, size, tree.root_hash(size)), LOG)
    sigs = [
        Witness(WITNESSES[n], [LOG.verifier()]).cosign(WitnessState(), note, [], T).signature
        for n in who
    ]
    return add_signatures(note, sigs)


def logged(*manifests: BankManifest, who: tuple[int, ...] = (0, 1)) -> list[ManifestInclusion]:
    tree = InMemoryTree()
    entries = [encode_entry(log_entry(m, T)) for m in manifests]
    for e in [b'{"filler":1}', *entries]:
        tree.append(e)
    note = cosigned_note(tree, who)
    return [
        ManifestInclusion(i + 1, e, tuple(inclusion_proof(tree, i + 1, tree.size())), note)
        for i, e in enumerate(entries)
    ]


def test_logged_manifest_is_accepted_and_others_refused() -> None:
    one, two = manifest(1), manifest(2)
    proof_one, proof_two = logged(one, two)
    assert verify_logged(one, proof_one, KEYS) == 3
    assert verify_logged(two, proof_two, KEYS) == 3
    # A manifest that is not in the log: its key is refused whatever evidence comes with it.
    three = manifest(3)
    for evidence in (proof_one, proof_two):
        with pytest.raises(ManifestError, match="another manifest"):
            verify_logged(three, evidence, KEYS)
    # Entry swapped for an unlogged manifest's entry: the inclusion proof fails.
    forged = replace(proof_one, entry=encode_entry(log_entry(three, T)))
    with pytest.raises(ManifestError, match="does not verify"):
        verify_logged(three, forged, KEYS)
    # Wrong index, truncated proof.
    with pytest.raises(ManifestError):
        verify_logged(one, replace(proof_one, log_index=2), KEYS)
    with pytest.raises(ManifestError):
        verify_logged(one, replace(proof_one, proof=proof_one.proof[:-1]), KEYS)
    with pytest.raises(ManifestError, match="beyond"):
        verify_logged(one, replace(proof_one, log_index=9), KEYS)


def test_checkpoint_needs_pinned_log_key_and_witness_quorum() -> None:
    one = manifest(1)
    (single,) = logged(one, who=(0,))
    with pytest.raises(ManifestError, match="does not verify"):
        verify_logged(one, single, KEYS)
    (good,) = logged(one)
    other_log = NoteSigner(LOG.name, SigningKey(b"\x32" * 32))
    with pytest.raises(ManifestError):
        verify_logged(one, good, replace(KEYS, log_vkey=other_log.verifier().vkey))
    strangers = tuple(
        CosignatureSigner(f"w{n}.fulcrum.test", SigningKey(bytes([60 + n]) * 32)).verifier().vkey
        for n in (1, 2, 3)
    )
    with pytest.raises(ManifestError):
        verify_logged(one, good, replace(KEYS, witness_vkeys=strangers))
    with pytest.raises(ManifestError, match="quorum"):
        LogKeys(KEYS.log_vkey, KEYS.witness_vkeys[:1], 2)


def test_log_entry_needs_source_signatures() -> None:
    bare = Custodian(b"\x04" * 32, CUSTODIAN).publish_epoch(1, [], m=8).manifest
    with pytest.raises(ManifestError):
        log_entry(bare, T)


def _audit(entries: list[bytes]) -> set[FindingKind]:
    tree = InMemoryTree()
    for e in entries:
        tree.append(e)
    monitor = LogMonitor(
        LOG.verifier(),
        [w.verifier() for w in WITNESSES],
        manifest_check=source_signature_check(TRUST),
    )
    monitor.add_entries(entries)
    monitor.observe(cosigned_note(tree))
    return {f.kind for f in monitor.report().findings}


def test_monitor_checks_source_cosignatures() -> None:
    good = log_entry(manifest(1), T)
    assert source_signature_check(TRUST)(good)
    assert FindingKind.MANIFEST_NOT_COSIGNED not in _audit([encode_entry(good)])
    # A signature by a key that is not the source's.
    mallory = SigningKey(b"\x09" * 32)
    bad_sig = mallory.sign(manifest(1).signed_message())
    forged = replace(good, source_signatures=(good.source_signatures[0], bad_sig))
    assert not source_signature_check(TRUST)(forged)
    assert FindingKind.MANIFEST_NOT_COSIGNED in _audit([encode_entry(forged)])
    # Signatures valid, but for another manifest (digest swapped).
    swapped = replace(good, manifest_digest=manifest(2).core_digest())
    assert not source_signature_check(TRUST)(swapped)
    # An unknown source, and too few sources.
    unknown = replace(good, sources=("hotline-a", "hotline-z"))
    assert not source_signature_check(TRUST)(unknown)
    lonely = replace(good, sources=good.sources[:1], source_signatures=good.source_signatures[:1])
    assert not source_signature_check(TRUST)(lonely)
    assert FindingKind.MANIFEST_NOT_COSIGNED in _audit([encode_entry(lonely)])

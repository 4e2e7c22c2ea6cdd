"""Offline verification of an evidence bundle: every failure names the file and the check."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fulcrum.encoding import EncodingError, b64d, canonical_json
from fulcrum.escrow import (
    DecryptionItem,
    EpochKeyBundle,
    EscrowContext,
    EscrowError,
    TrusteePartial,
    parse_escrow_field,
    verify_partial,
)
from fulcrum.evidence.custody import check_custody
from fulcrum.evidence.manifest import (
    CUSTODY,
    FORMAT,
    MANIFEST,
    files_root,
    signed_bytes,
    signing_message,
)
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.signing import VerifyKey
from fulcrum.hazmat.symmetric import md5_hex, sha256
from fulcrum.translog import (
    CosignatureVerifier,
    EpochKey,
    EvidenceExported,
    TranslogError,
    leaf_hash,
    parse_entry,
    verify_cosigned_checkpoint,
    verify_inclusion,
)
from fulcrum.translog.note import Verifier


@dataclass(frozen=True)
class TrustedKeys:
    """Whom the verifier believes: exporters (manifest and custody), the log and its witnesses."""

    exporters: tuple[VerifyKey, ...]
    log_verifier: Verifier | None = None
    witnesses: tuple[CosignatureVerifier, ...] = ()
    min_witnesses: int = 2


@dataclass(frozen=True)
class BundleFailure:
    file: str
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}: {self.check}: {self.detail}"


@dataclass
class VerificationReport:
    failures: list[BundleFailure] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, file: str, check: str, detail: str) -> None:
        self.failures.append(BundleFailure(file, check, detail))

    def failed_files(self) -> set[str]:
        return {f.file for f in self.failures}


def read_bundle(path: Path) -> dict[str, bytes]:
    """Every file of a bundle directory or zip, by relative POSIX path."""
    p = Path(path)
    if p.is_dir():
        return {f.relative_to(p).as_posix(): f.read_bytes() for f in p.rglob("*") if f.is_file()}
    with zipfile.ZipFile(p) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def _b64(value: object) -> bytes:
    if not isinstance(value, str):
        raise EncodingError("expected base64url")
    return b64d(value)


def _log_proof(
    report: VerificationReport, file: str, proof: Any, trusted: TrustedKeys
) -> bytes | None:
    """Check an entry's inclusion under a cosigned checkpoint; the entry bytes if it holds."""
    if trusted.log_verifier is None:
        report.fail(file, "log-trust", "no log key given; inclusion cannot be checked")
        return None
    try:
        entry = _b64(proof["entry"])
        note = _b64(proof["checkpoint"])
        path = [_b64(p) for p in proof["proof"]]
        index = proof["leaf_index"]
    except (KeyError, TypeError, EncodingError) as exc:
        report.fail(file, "log-proof-format", str(exc))
        return None
    try:
        cp = verify_cosigned_checkpoint(
            note, trusted.log_verifier, trusted.witnesses, trusted.min_witnesses
        ).checkpoint
    except (TranslogError, ValueError) as exc:
        report.fail(file, "checkpoint", f"checkpoint not signed and cosigned: {exc}")
        return None
    try:
        verify_inclusion(leaf_hash(entry), index, cp.size, path, cp.root_hash)
    except (TranslogError, TypeError) as exc:
        report.fail(file, "inclusion-proof", str(exc))
        return None
    return entry


def verify_bundle(path: Path, trusted: TrustedKeys) -> VerificationReport:
    report = VerificationReport()
    try:
        files = read_bundle(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.fail(str(path), "read", str(exc))
        return report
    raw = files.pop(MANIFEST, None)
    if raw is None:
        report.fail(MANIFEST, "missing", "no manifest")
        return report
    try:
        manifest = json.loads(raw)
        if canonical_json(manifest) != raw or set(manifest) != {"signed", "signature", "log"}:
            raise ValueError("not the canonical manifest form")
        signed = manifest["signed"]
        if signed["format"] != FORMAT:
            raise ValueError(f"unknown format {signed['format']!r}")
        listed = {k: v["sha256"] for k, v in signed["files"].items()}
        signer = _b64(signed["signer"])
        signature = _b64(manifest["signature"])
    except (ValueError, KeyError, TypeError, EncodingError) as exc:
        report.fail(MANIFEST, "format", str(exc))
        return report
    if signer not in {k.raw for k in trusted.exporters}:
        report.fail(MANIFEST, "signer", "manifest signed by a key that is not trusted")
    elif not VerifyKey(signer).is_valid(signature, signing_message(signed)):
        report.fail(MANIFEST, "signature", "manifest signature does not verify")
    else:
        report.passed.append("manifest signature")
    _check_files(report, files, listed)
    try:
        root_ok = _b64(signed["merkle_root"]) == files_root(listed)
    except (EncodingError, ValueError, TypeError):
        root_ok = False
    if root_ok:
        report.passed.append("merkle root")
    else:
        report.fail(MANIFEST, "merkle-root", "root does not match the listed file hashes")
    _check_export_entry(report, manifest, signed, trusted)
    _check_custody_file(report, files.get(CUSTODY), signed, trusted)
    _check_attachments(report, files)
    _check_provenance(report, files, trusted)
    return report


def _check_files(
    report: VerificationReport, files: dict[str, bytes], listed: dict[str, str]
) -> None:
    for rel, digest in sorted(listed.items()):
        data = files.get(rel)
        if data is None:
            report.fail(rel, "missing", "listed in the manifest but absent")
        elif sha256(data).hex() != digest:
            report.fail(rel, "sha256", "content differs from the manifest")
    for rel in sorted(set(files) - set(listed) - {CUSTODY}):
        report.fail(rel, "unlisted", "file not in the manifest")
    report.passed.append("file hashes")


def _check_export_entry(
    report: VerificationReport, manifest: Any, signed: Any, trusted: TrustedKeys
) -> None:
    if manifest["log"] is None:
        report.fail(MANIFEST, "log-entry", "no EvidenceExported inclusion proof")
        return
    entry_bytes = _log_proof(report, MANIFEST, manifest["log"], trusted)
    if entry_bytes is None:
        return
    try:
        entry = parse_entry(entry_bytes)
    except TranslogError as exc:
        report.fail(MANIFEST, "log-entry", str(exc))
        return
    if not isinstance(entry, EvidenceExported):
        report.fail(MANIFEST, "log-entry", f"logged entry is {entry.TYPE}, not EvidenceExported")
    elif entry.bundle_digest != sha256(signed_bytes(signed)):
        report.fail(MANIFEST, "log-entry", "the logged digest is not this manifest's")
    elif entry.item_count != signed.get("message_count"):
        report.fail(MANIFEST, "log-entry", "the logged item count differs")
    else:
        report.passed.append("EvidenceExported inclusion")


def _check_custody_file(
    report: VerificationReport, data: bytes | None, signed: Any, trusted: TrustedKeys
) -> None:
    if data is None:
        report.fail(CUSTODY, "missing", "no custody log")
        return
    result = check_custody(data, frozenset(k.raw for k in trusted.exporters))
    for check, detail in result.problems:
        report.fail(CUSTODY, check, detail)
    try:
        count, head = signed["custody"]["count"], signed["custody"]["head"]
    except (KeyError, TypeError):
        report.fail(MANIFEST, "format", "no custody head")
        return
    if not isinstance(count, int) or count < 1 or len(result.heads) < count:
        report.fail(CUSTODY, "head", "custody log is shorter than at sealing")
    elif result.heads[count - 1] != head:
        report.fail(CUSTODY, "head", "custody log differs from the sealed one")
    elif not result.problems:
        report.passed.append("custody chain")


def _check_attachments(report: VerificationReport, files: dict[str, bytes]) -> None:
    try:
        doc = json.loads(files.get("messages.json", b"null"))
        records: Iterable[Any] = doc["messages"]
        refs = [a for m in records for a in m["attachments"]]
    except (ValueError, KeyError, TypeError) as exc:
        report.fail("messages.json", "format", str(exc))
        return
    for a in refs:
        data = files.get(str(a.get("path")))
        if data is None:
            report.fail(str(a.get("path")), "missing", "attachment named in messages.json")
        elif sha256(data).hex() != a.get("sha256") or md5_hex(data) != a.get("md5"):
            report.fail(str(a.get("path")), "attachment-hash", "SHA-256 or MD5 differs")


def _check_epoch_key(
    report: VerificationReport,
    file: str,
    request_id: object,
    proof: Any,
    bundle: EpochKeyBundle,
    trusted: TrustedKeys,
) -> None:
    """The epoch key bundle the partials are checked against must be the logged EpochKey."""
    check = "epoch-key-log"
    if proof is None:
        report.fail(file, check, f"request {request_id}: no EpochKey inclusion proof")
        return
    entry_bytes = _log_proof(report, file, proof, trusted)
    if entry_bytes is None:
        return
    try:
        entry = parse_entry(entry_bytes)
    except TranslogError as exc:
        report.fail(file, check, f"request {request_id}: {exc}")
        return
    if not isinstance(entry, EpochKey):
        report.fail(file, check, f"request {request_id}: logged entry is {entry.TYPE}")
        return
    logged = (entry.epoch, entry.public_key, entry.threshold, entry.valid_from, entry.valid_until)
    given = (bundle.epoch, bundle.group_key.to_bytes(), bundle.threshold, bundle.valid_from,
             bundle.valid_until)  # fmt: skip
    if logged != given:
        report.fail(file, check, f"request {request_id}: the epoch key bundle is not the "
                    f"logged EpochKey of epoch {entry.epoch}")  # fmt: skip
        return
    try:
        bundle.check_consistency()
    except EscrowError as exc:
        report.fail(file, "epoch-key-consistency", f"request {request_id}: {exc}")
        return
    report.passed.append(f"EpochKey inclusion (request {request_id})")


def _check_provenance(
    report: VerificationReport, files: dict[str, bytes], trusted: TrustedKeys
) -> None:
    name = "provenance/partials.json"
    try:
        requests = json.loads(files.get(name, b"[]"))
        for r in requests:
            bundle = EpochKeyBundle.from_bytes(_b64(r["epoch_bundle"]))
            binding = _b64(r["binding"])
            items = [
                DecryptionItem(
                    parse_escrow_field(_b64(i["escrow_field"])),
                    EscrowContext.from_bytes(_b64(i["ctx"])),
                )
                for i in r["items"]
            ]
            _check_epoch_key(report, name, r["request_id"], r.get("epoch_key_log"), bundle,
                             trusted)  # fmt: skip
            partials = [TrusteePartial.from_bytes(_b64(p)) for p in r["partials"]]
            bad = [
                p.trustee_index for p in partials if not verify_partial(p, items, bundle, binding)
            ]
            if bad or len(partials) < bundle.threshold:
                report.fail(name, "dleq", f"request {r['request_id']}: bad partials from {bad}")
    except (ValueError, KeyError, TypeError, EscrowError, EncodingError, CryptoError) as exc:
        report.fail(name, "format", str(exc))
    name = "provenance/warrant.json"
    try:
        proofs = json.loads(files.get(name, b"{}")).get("log_proofs", [])
    except (ValueError, AttributeError) as exc:
        report.fail(name, "format", str(exc))
        return
    for proof in proofs:
        _log_proof(report, name, proof, trusted)

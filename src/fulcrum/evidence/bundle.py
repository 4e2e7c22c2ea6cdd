"""Writing an evidence bundle (a directory, optionally zipped). This package does file I/O."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fulcrum.encoding import b64e, canonical_json
from fulcrum.evidence.custody import custody_line
from fulcrum.evidence.handover import render_handover
from fulcrum.evidence.manifest import (
    CUSTODY,
    FORMAT,
    MANIFEST,
    files_root,
    signed_bytes,
    signing_message,
)
from fulcrum.evidence.records import (
    EvidenceCase,
    EvidenceMessage,
    EvidenceProvenance,
    LogProof,
)
from fulcrum.evidence.render import render_csv, render_html, render_json, render_pdf
from fulcrum.hazmat.signing import SigningKey
from fulcrum.hazmat.symmetric import sha256
from fulcrum.translog import EvidenceExported


class BundleError(ValueError):
    """A bundle cannot be written or amended (exists already, wrong log entry...)."""


@dataclass(frozen=True)
class BundleResult:
    path: Path
    manifest_digest: bytes
    message_count: int
    files: int

    def export_entry(self, case: EvidenceCase, time: int) -> EvidenceExported:
        """The ``EvidenceExported`` entry to log for this bundle."""
        return EvidenceExported(
            time=time,
            case_id=case.case_id,
            recipient=case.recipient,
            bundle_digest=self.manifest_digest,
            item_count=self.message_count,
        )


def _provenance_files(
    messages: Sequence[EvidenceMessage], prov: EvidenceProvenance
) -> dict[str, bytes]:
    def per_message(attr: str) -> bytes:
        out: dict[str, Any] = {}
        for m in messages:
            value = getattr(m, attr)
            if value is not None:
                out[m.msg_id] = b64e(value) if isinstance(value, bytes) else value
        return canonical_json(out)

    escrow = {
        m.msg_id: {"escrow_field": b64e(m.escrow_field), "ctx": b64e(m.ctx or b"")}
        for m in messages
        if m.escrow_field is not None
    }
    return {
        "provenance/warrant.json": canonical_json(
            {
                "signed_warrant": b64e(prov.signed_warrant),
                "log_proofs": [p.to_json() for p in prov.warrant_log_proofs],
            }
        ),
        "provenance/partials.json": canonical_json([r.to_json() for r in prov.requests]),
        "provenance/escrow.json": canonical_json(escrow),
        "provenance/envelopes.json": per_message("envelope"),
        "provenance/franking.json": per_message("franking_verdict"),
    }


def write_bundle(
    out_dir: Path,
    case: EvidenceCase,
    messages: Sequence[EvidenceMessage],
    provenance: EvidenceProvenance,
    key: SigningKey,
    *,
    actor: str,
    pdf: bool = True,
) -> BundleResult:
    """Write every file, the custody log and the signed manifest into a new directory."""
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise BundleError(f"{out} exists and is not empty")
    if len({m.msg_id for m in messages}) != len(messages):
        raise BundleError("duplicate message ids")
    files: dict[str, bytes] = {
        "transcript.html": render_html(case, messages),
        "messages.json": render_json(case, messages),
        "messages.csv": render_csv(messages),
        "handover.xml": render_handover(case, messages),
        **_provenance_files(messages, provenance),
    }
    if pdf:
        files["transcript.pdf"] = render_pdf(case, messages)
    for m in messages:
        for a in m.attachments:
            files[f"attachments/{a.sha256_hex}"] = a.data
    out.mkdir(parents=True, exist_ok=True)
    (out / "attachments").mkdir(exist_ok=True)
    (out / "provenance").mkdir(exist_ok=True)
    for rel, data in files.items():
        (out / rel).write_bytes(data)
    digests = {rel: sha256(data).hex() for rel, data in files.items()}
    line = custody_line(
        None,
        seq=0,
        time=case.exported_at,
        event="created",
        actor=actor,
        detail=f"{len(messages)} messages, {len(files)} files",
        key=key,
    )
    (out / CUSTODY).write_bytes(line + b"\n")
    signed = {
        "format": FORMAT,
        "case_id": case.case_id,
        "warrant_id": case.warrant_id,
        "exported_at": case.exported_at,
        "message_count": len(messages),
        "files": {
            rel: {"sha256": d, "size": len(files[rel])} for rel, d in sorted(digests.items())
        },
        "merkle_root": b64e(files_root(digests)),
        "custody": {"count": 1, "head": sha256(line).hex()},
        "signer": b64e(key.public_key().raw),
    }
    manifest = {"signed": signed, "signature": b64e(key.sign(signing_message(signed))), "log": None}
    (out / MANIFEST).write_bytes(canonical_json(manifest))
    return BundleResult(out, sha256(signed_bytes(signed)), len(messages), len(files))


def record_export(
    bundle: Path, logged: LogProof, key: SigningKey, *, actor: str, time: int
) -> None:
    """Add the ``EvidenceExported`` inclusion proof to the manifest; log a custody event."""
    import json

    from fulcrum.translog import parse_entry

    path = Path(bundle)
    manifest = json.loads((path / MANIFEST).read_bytes())
    entry = parse_entry(logged.entry)
    digest = sha256(signed_bytes(manifest["signed"]))
    if not isinstance(entry, EvidenceExported) or entry.bundle_digest != digest:
        raise BundleError("the log entry is not the EvidenceExported entry of this bundle")
    manifest["log"] = logged.to_json()
    (path / MANIFEST).write_bytes(canonical_json(manifest))
    custody = (path / CUSTODY).read_bytes()
    lines = custody.splitlines()
    line = custody_line(
        lines[-1],
        seq=len(lines),
        time=time,
        event="logged",
        actor=actor,
        detail=f"EvidenceExported at leaf {logged.leaf_index}",
        key=key,
    )
    (path / CUSTODY).write_bytes(custody + line + b"\n")


def zip_bundle(bundle: Path, zip_path: Path) -> Path:
    """A deterministic zip of the bundle directory (sorted names, fixed timestamps)."""
    root = Path(bundle)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(
                file.relative_to(root).as_posix(), date_time=(1980, 1, 1, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, file.read_bytes())
    return Path(zip_path)

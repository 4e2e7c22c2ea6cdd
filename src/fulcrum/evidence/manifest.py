"""manifest.json: SHA-256 of every file, an RFC 9162 Merkle root, an Ed25519 signature, and the
inclusion proof of the ``EvidenceExported`` log entry.

The file is canonical JSON ``{"signed": {...}, "signature": b64, "log": null | {...}}``. The
signature covers ``domain_message("fulcrum/evidence/manifest/v1", canonical JSON of "signed")``;
the manifest digest ``SHA-256(canonical JSON of "signed")`` is the ``bundle_digest`` of the
``EvidenceExported`` entry. Because that entry can only be logged after signing, the ``log``
section (entry, leaf index, proof, cosigned checkpoint) is added afterwards and is checked on its
own: the entry must name this manifest's digest. File leaves are
``leaf_hash(domain_message("fulcrum/evidence/file/v1", path, sha256))`` in path order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fulcrum.encoding import canonical_json, domain_message
from fulcrum.translog import leaf_hash, merkle_root

FORMAT = "fulcrum-evidence-v1"
MANIFEST_DOMAIN = "fulcrum/evidence/manifest/v1"
FILE_DOMAIN = "fulcrum/evidence/file/v1"
MANIFEST = "manifest.json"
CUSTODY = "custody.jsonl"


def files_root(files: Mapping[str, str]) -> bytes:
    """RFC 9162 root over ``(path, sha256 hex)`` leaves sorted by path."""
    leaves = [
        leaf_hash(domain_message(FILE_DOMAIN, path.encode("utf-8"), bytes.fromhex(digest)))
        for path, digest in sorted(files.items())
    ]
    return merkle_root(leaves)


def signed_bytes(signed: Mapping[str, Any]) -> bytes:
    return canonical_json(dict(signed))


def signing_message(signed: Mapping[str, Any]) -> bytes:
    return domain_message(MANIFEST_DOMAIN, signed_bytes(signed))

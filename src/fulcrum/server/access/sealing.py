"""The platform's access keys under ``<data_dir>/access``: files 0600 in a 0700 directory.

``opening.key`` seals warrant openings (signed warrant + commitment salt) at rest with
AES-256-GCM, the warrant id as associated data: the platform keeps them sealed until the warrant
is unsealed. ``exporter.key`` is the Ed25519 key that signs evidence manifests and custody
events; its public half is served at ``GET /v1/access/keys`` for offline verification.
"""

from __future__ import annotations

import os
from pathlib import Path

from fulcrum.encoding import b64d, b64e
from fulcrum.hazmat.signing import SigningKey
from fulcrum.hazmat.symmetric import aes256gcm_open, aes256gcm_seal, random_bytes

NONCE = 12


def _secret(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(b64e(random_bytes(32)))
    return b64d(path.read_text().strip(), length=32)


class OpeningSeal:
    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"OpeningSeal({self.root})"

    def seal(self, data: bytes, warrant_id: str) -> bytes:
        nonce = random_bytes(NONCE)
        key = _secret(self.root / "opening.key")
        return nonce + aes256gcm_seal(key, nonce, data, warrant_id.encode())

    def open(self, sealed: bytes, warrant_id: str) -> bytes:
        key = _secret(self.root / "opening.key")
        return aes256gcm_open(key, sealed[:NONCE], sealed[NONCE:], warrant_id.encode())

    def exporter(self) -> SigningKey:
        return SigningKey(_secret(self.root / "exporter.key"))

"""Key files of the log and its in-process witnesses, kept under ``<data_dir>/translog``.

The log key is stored in the Go ``note`` signer format (``PRIVATE+KEY+name+id+base64``); each
witness key is a separate file holding its 32-byte Ed25519 seed in base64url. Files are created
with mode 0600 and never logged.
"""

from __future__ import annotations

import os
from pathlib import Path

from fulcrum.encoding import b64d, b64e
from fulcrum.hazmat.signing import SigningKey
from fulcrum.translog import CosignatureSigner, NoteSigner
from fulcrum.translog.note import std_b64encode


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def skey_text(signer: NoteSigner) -> str:
    raw = b"\x01" + signer.signing_key.seed
    return f"PRIVATE+KEY+{signer.name}+{signer.key_id:08x}+{std_b64encode(raw)}"


def load_log_signer(directory: Path, origin: str) -> NoteSigner:
    """The log's note signer, created on first use."""
    path = directory / "log.skey"
    if not path.exists():
        _write_secret(path, skey_text(NoteSigner.generate(origin)))
    signer = NoteSigner.from_skey(path.read_text().strip())
    if signer.name != origin:
        raise ValueError(f"log key in {path} is for {signer.name!r}, not {origin!r}")
    return signer


def load_witness_signer(directory: Path, name: str) -> CosignatureSigner:
    """One witness's cosigning key, created on first use."""
    path = directory / "witnesses" / f"{name}.key"
    if not path.exists():
        _write_secret(path, b64e(SigningKey.generate().seed))
    return CosignatureSigner(name, SigningKey(b64d(path.read_text().strip(), length=32)))

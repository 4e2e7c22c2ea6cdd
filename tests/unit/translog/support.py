"""Shared helpers for the translog tests: vector files, keys and a small log with checkpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fulcrum.hazmat.signing import SigningKey
from fulcrum.translog import (
    Checkpoint,
    CosignatureSigner,
    InMemoryTree,
    NoteSigner,
    sign_checkpoint,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
ORIGIN = "log.fulcrum.test/v1"


def load_vectors(name: str) -> Any:
    return json.loads((VECTORS / name).read_text("utf-8"))


def h(text: str | None) -> bytes:
    return bytes.fromhex(text or "")


def log_signer(name: str = ORIGIN, seed: int = 1) -> NoteSigner:
    return NoteSigner(name, SigningKey(bytes([seed]) * 32))


def witness_signer(n: int) -> CosignatureSigner:
    return CosignatureSigner(f"witness{n}.fulcrum.test", SigningKey(bytes([100 + n]) * 32))


def tree_of(entries: list[bytes]) -> InMemoryTree:
    tree = InMemoryTree()
    for e in entries:
        tree.append(e)
    return tree


def checkpoint_note(tree: InMemoryTree, size: int, signer: NoteSigner | None = None) -> bytes:
    signer = signer or log_signer()
    return sign_checkpoint(Checkpoint(signer.name, size, tree.root_hash(size)), signer)

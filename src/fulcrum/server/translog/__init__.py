"""The transparency log feature: a ``TransparencyLog`` in ``state.features["translog"]``.

Keys live under ``<data_dir>/translog`` (created on first start): the log's note key and one key
per in-process witness. Endpoints are served by the ``log`` role (``routes/log.py``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from fulcrum.server.state import RelayState
from fulcrum.server.translog.keys import load_log_signer, load_witness_signer
from fulcrum.server.translog.service import (
    CheckpointRefused,
    CosignedNote,
    InProcessWitness,
    TransparencyLog,
)
from fulcrum.store import Database

FEATURE = "translog"
LOG_ORIGIN = "fulcrum.example/log"
WITNESS_NAMES = (
    "witness-a.fulcrum.example",
    "witness-b.fulcrum.example",
    "witness-c.fulcrum.example",
)
MIN_WITNESSES = 2


def open_log(data_dir: Path, db: Database) -> TransparencyLog:
    """The log of the server whose data dir is ``data_dir`` (also used by operator CLIs)."""
    directory = data_dir / "translog"
    signer = load_log_signer(directory, LOG_ORIGIN)
    witnesses = [
        InProcessWitness(load_witness_signer(directory, name), signer.verifier())
        for name in WITNESS_NAMES
    ]
    return TransparencyLog(db, signer, witnesses, min_witnesses=MIN_WITNESSES)


def build_log(state: RelayState) -> TransparencyLog:
    return open_log(state.settings.data_dir, state.db)


def install(_app: FastAPI, state: RelayState) -> None:
    state.features[FEATURE] = build_log(state)


def transparency_log(state: RelayState) -> TransparencyLog:
    log = state.features.get(FEATURE)
    if not isinstance(log, TransparencyLog):
        raise RuntimeError("the transparency log feature is not installed")
    return log


__all__ = [
    "FEATURE",
    "CheckpointRefused",
    "CosignedNote",
    "InProcessWitness",
    "TransparencyLog",
    "install",
    "transparency_log",
]

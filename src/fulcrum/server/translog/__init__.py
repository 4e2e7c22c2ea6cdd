"""The transparency log feature: a ``TransparencyLog`` in ``state.features["translog"]``.

Keys live under ``<data_dir>/translog`` (created on first start): the log's note key and one key
per in-process witness. Endpoints are served by the ``log`` role (``routes/log.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from fulcrum.server.state import RelayState
from fulcrum.server.translog.keys import load_log_signer, load_witness_signer
from fulcrum.server.translog.remote import ENV_VAR, RemoteWitness, parse_witness_urls
from fulcrum.server.translog.service import (
    CheckpointRefused,
    CosignedNote,
    InProcessWitness,
    LogWitness,
    TransparencyLog,
)
from fulcrum.store import Database
from fulcrum.translog import CosignatureVerifier

FEATURE = "translog"
LOG_ORIGIN = "fulcrum.example/log"
WITNESS_NAMES = (
    "witness-a.fulcrum.example",
    "witness-b.fulcrum.example",
    "witness-c.fulcrum.example",
)
MIN_WITNESSES = 2


def open_log(
    data_dir: Path,
    db: Database,
    remote: str | None = None,
    in_process: int | None = None,
    timeout: float = 5.0,
) -> TransparencyLog:
    """The log of the server whose data dir is ``data_dir`` (also used by operator CLIs).

    ``remote`` is the ``FULCRUM_LOG_WITNESSES`` value (``vkey@url,...``) and ``in_process`` how
    many of the in-process witnesses to run (``FULCRUM_LOG_INPROCESS_WITNESSES``, default all);
    when not given both are read from the environment, so operator CLIs match the server.
    """
    if remote is None:
        remote = os.environ.get(ENV_VAR, "")
    if in_process is None:
        in_process = int(os.environ.get("FULCRUM_LOG_INPROCESS_WITNESSES", len(WITNESS_NAMES)))
    if not 0 <= in_process <= len(WITNESS_NAMES):
        raise ValueError(f"in-process witnesses must be between 0 and {len(WITNESS_NAMES)}")
    directory = data_dir / "translog"
    signer = load_log_signer(directory, LOG_ORIGIN)
    witnesses: list[LogWitness] = [
        InProcessWitness(load_witness_signer(directory, name), signer.verifier())
        for name in WITNESS_NAMES[:in_process]
    ]
    witnesses += [
        RemoteWitness(url, CosignatureVerifier.from_vkey(vkey), timeout=timeout)
        for vkey, url in parse_witness_urls(remote)
    ]
    return TransparencyLog(db, signer, witnesses, min_witnesses=MIN_WITNESSES)


def build_log(state: RelayState) -> TransparencyLog:
    s = state.settings
    return open_log(
        s.data_dir, state.db, s.log_witnesses, s.log_inprocess_witnesses, s.log_witness_timeout
    )


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
    "LogWitness",
    "RemoteWitness",
    "TransparencyLog",
    "install",
    "transparency_log",
]

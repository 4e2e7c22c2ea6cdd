"""``fulcrum audit verify`` against a live embedded server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from fulcrum.cli.main import app
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.store.translog import TranslogEntry
from fulcrum.translog import FrankingKeyRotated, NoteSigner

pytestmark = pytest.mark.integration


def _fill(srv: EmbeddedServer, n: int, first: int = 0) -> None:
    log = srv.app.state.fulcrum.features["translog"]
    for i in range(first, first + n):
        log.append(
            FrankingKeyRotated(time=i, key_id=f"k{i}", key_commitment=b"\x01" * 32, valid_from=i)
        )


def test_audit_green_then_catches_tampering(log_server: EmbeddedServer, tmp_path: Path) -> None:
    runner = CliRunner()
    keys, state = tmp_path / "keys.json", tmp_path / "seen.json"
    base = ["audit", "verify", "--server", log_server.url]
    refused = runner.invoke(app, base)
    assert refused.exit_code == 2
    _fill(log_server, 7)
    first = runner.invoke(app, [*base, "--keys-file", str(keys), "--tofu", "--state", str(state)])
    assert first.exit_code == 0, first.output
    assert "trust on first use" in first.output and "0 findings" in first.output
    assert len(json.loads(keys.read_text())["witness_vkeys"]) == 3
    _fill(log_server, 5, first=7)
    second = runner.invoke(app, [*base, "--keys-file", str(keys), "--state", str(state)])
    assert second.exit_code == 0, second.output
    assert "trust on first use" not in second.output
    log = log_server.app.state.fulcrum.features["translog"]
    with log.db.write() as session:
        session.execute(update(TranslogEntry).where(TranslogEntry.idx == 3).values(entry=b"{}"))
    third = runner.invoke(app, [*base, "--keys-file", str(keys), "--state", str(state)])
    assert third.exit_code == 1
    assert "root_mismatch" in third.output.lower()


def test_audit_refuses_keys_other_than_the_pinned_ones(
    log_server: EmbeddedServer, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.json"
    other = NoteSigner.generate("fulcrum.example/log").verifier().vkey
    published = log_server.app.state.fulcrum.features["translog"].witness_verifiers()
    pins = {"log_vkey": other, "witness_vkeys": [w.vkey for w in published]}
    keys.write_text(json.dumps(pins))
    result = CliRunner().invoke(
        app, ["audit", "verify", "--server", log_server.url, "--keys-file", str(keys)]
    )
    assert result.exit_code == 1
    assert "keys other than the pinned ones" in result.output

"""`fulcrum trustee init|dkg|status|destroy`, then a server started on the same data dir."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from fulcrum.cli.main import app
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.translog import EpochKey, ShareDestroyed, parse_entry

pytestmark = pytest.mark.integration

POLICY = """n = 3
t = 2
epoch_seconds = 86400
retention_seconds = 0
trustees = ["court-a", "ngo-b", "platform-c"]
"""


def test_trustee_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    runner = CliRunner()
    first = runner.invoke(app, ["trustee", "init", "--data", str(data), "--policy", str(policy)])
    assert first.exit_code == 0, first.output
    assert "n=3 t=2" in first.output and "court-a" in first.output
    other = tmp_path / "other.toml"
    other.write_text(POLICY.replace("t = 2", "t = 3"))
    refused = runner.invoke(app, ["trustee", "init", "--data", str(data), "--policy", str(other)])
    assert refused.exit_code == 2 and "different policy" in refused.output

    keyed = runner.invoke(app, ["trustee", "dkg", "--data", str(data)])
    assert keyed.exit_code == 0, keyed.output
    assert "t=2/3" in keyed.output and "log index 0" in keyed.output
    ahead = runner.invoke(app, ["trustee", "dkg", "--data", str(data), "--next"])
    assert ahead.exit_code == 0 and "log index 1" in ahead.output
    epoch = int(keyed.output.split()[1].rstrip(":"))

    status = runner.invoke(app, ["trustee", "status", "--data", str(data)])
    assert status.exit_code == 0
    assert f"epoch {epoch}: log index 0, shares held 3, destroyed 0" in status.output

    bad = runner.invoke(app, ["trustee", "destroy", "--data", str(data)])
    assert bad.exit_code == 2
    gone = runner.invoke(
        app,
        ["trustee", "destroy", "--data", str(data), "--epoch", str(epoch), "--trustee", "ngo-b"],
    )
    assert gone.exit_code == 0 and "destroyed 1 shares; log indices [2]" in gone.output
    gone = runner.invoke(app, ["trustee", "destroy", "--data", str(data), "--epoch", str(epoch)])
    assert "destroyed 2 shares" in gone.output
    status = runner.invoke(app, ["trustee", "status", "--data", str(data)])
    assert f"epoch {epoch}: log index 0, shares held 0, destroyed 3  (cannot be opened)" in (
        status.output
    )

    # the server started on this data dir serves the CLI's epoch key and logged entries
    srv = EmbeddedServer(data).start()
    try:
        with httpx.Client() as http:
            got = http.get(srv.url + "/v1/escrow/epoch-key", params={"epoch": epoch})
            assert got.status_code == 200 and got.json()["log_index"] == 0
            unknown = http.get(srv.url + "/v1/escrow/epoch-key", params={"epoch": 5})
            assert unknown.status_code == 404
            assert unknown.json()["error"]["code"] == "epoch_unknown"
        log = srv.app.state.fulcrum.features["translog"]
        kinds = [type(parse_entry(e)) for e in log.entries(0, log.size())]
        assert kinds == [EpochKey, EpochKey, ShareDestroyed, ShareDestroyed, ShareDestroyed]
    finally:
        srv.stop()


def test_status_without_policy(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["trustee", "status", "--data", str(tmp_path)])
    assert result.exit_code == 1 and "escrow is off" in result.output

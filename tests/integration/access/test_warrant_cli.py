"""The warrant CLI against a live server: judge key, warrant, trustees, export, offline verify."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from tests.integration.access.conftest import Desk
from tests.integration.client.conftest import World
from typer.testing import CliRunner

from fulcrum.cli.main import app

pytestmark = pytest.mark.integration


async def test_cli_warrant_to_verified_bundle(world: World, desk: Desk, tmp_path: Path) -> None:
    runner = CliRunner()
    url = desk.server.url

    def cli(*args: str, who: str = "operator", code: int = 0) -> str:
        env = {"FULCRUM_SERVER": url, "FULCRUM_ACCESS_TOKEN": desk.tokens[who]}
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == code, result.output
        return result.output

    key = tmp_path / "judge.key"
    cli("judge", "keygen", "--out", str(key))
    cli("judge", "register", "--key-id", "judge-cli", "--court", "XA court",
        "--public-key", f"{key}.pub")  # fmt: skip
    doc, signed = tmp_path / "w.json", tmp_path / "w.signed.json"
    cli("warrant", "create", "--out", str(doc), "--agency", "police-a", "--jurisdiction", "XA",
        "--serial", "cli-1", "--target", "alice", "--judge-key-id", "judge-cli",
        "--legal-basis", "CPC s. 100a", "--days", "7")  # fmt: skip
    cli("warrant", "sign", str(doc), "--key", str(key), "--out", str(signed))
    assert "registered" in cli("warrant", "submit", str(signed), who="judge")
    assert "approved" in cli("warrant", "approve", "XA:police-a:cli-1")
    alice = await world.user("alice")
    await world.user("bob")
    await alice.send_text("bob", "said over the CLI")
    out = cli("warrant", "request", "XA:police-a:cli-1")
    assert "AccessCompleted" in out
    bundle = tmp_path / "bundle.zip"
    assert "1/1 decrypted" in cli("warrant", "export", "XA:police-a:cli-1",
                                  "--recipient", "unit-7", "--out", str(bundle))  # fmt: skip
    keys = tmp_path / "keys.json"
    cli("evidence", "keys", "--out", str(keys))
    assert "bundle verifies" in cli("evidence", "verify", str(bundle), "--keys", str(keys))
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(folder)
    page = folder / "transcript.html"
    page.write_bytes(page.read_bytes().replace(b"said over", b"said under"))
    out = cli("evidence", "verify", str(folder), "--keys", str(keys), code=1)
    assert "transcript.html" in out and "does NOT verify" in out

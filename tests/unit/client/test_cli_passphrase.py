"""`fulcrum device passphrase` re-wraps the store key; a wrong current one changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.client.fixtures import PASS, new_core, open_home, snapshot
from typer.testing import CliRunner

from fulcrum.cli.main import app
from fulcrum.client.home import KEY_FILE, LOG_FILE
from fulcrum.e2ee.at_rest import WrongPassphrase

pytestmark = pytest.mark.unit


def _home(tmp_path: Path) -> Path:
    core, state, _, _ = new_core(2)
    home = open_home(tmp_path / "h")
    home.save(core, state)
    home.unlock()
    return tmp_path / "h"


def _change(path: Path, current: str, new: str) -> tuple[int, str]:
    env = {"FULCRUM_PASSPHRASE": current, "FULCRUM_NEW_PASSPHRASE": new}
    result = CliRunner().invoke(app, ["device", "passphrase", "--home", str(path)], env=env)
    return result.exit_code, result.output


def test_change_then_only_the_new_passphrase_opens(tmp_path: Path) -> None:
    path = _home(tmp_path)
    expected = snapshot(*open_home(path).load())
    log_before = (path / LOG_FILE).read_bytes()
    code, out = _change(path, PASS, "a different passphrase")
    assert code == 0, out
    assert "passphrase changed" in out
    assert (path / LOG_FILE).read_bytes() == log_before
    with pytest.raises(WrongPassphrase):
        open_home(path, PASS)
    assert snapshot(*open_home(path, "a different passphrase").load()) == expected


def test_wrong_current_passphrase_changes_nothing(tmp_path: Path) -> None:
    path = _home(tmp_path)
    key_before = (path / KEY_FILE).read_bytes()
    code, out = _change(path, "not the passphrase", "whatever else")
    assert code == 1
    assert "error" in out
    assert (path / KEY_FILE).read_bytes() == key_before


def test_no_device_in_home_is_a_clear_error(tmp_path: Path) -> None:
    code, out = _change(tmp_path / "empty", PASS, "new one")
    assert code == 1
    assert "no Fulcrum device" in out

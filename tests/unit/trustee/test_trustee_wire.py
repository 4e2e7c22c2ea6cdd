"""JSON forms of the request types, the FULCRUM_ACCESS_TRUSTEES parser and the token file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fulcrum.access import AccessError, LoggedRequest
from fulcrum.access.wire import logged_from_json, logged_to_json, request_from_json
from fulcrum.cli.trustee import read_token_hash
from fulcrum.server.access.remote import parse_trustee_urls
from fulcrum.trustee import token_hash

pytestmark = pytest.mark.unit


def test_logged_request_round_trips() -> None:
    logged = LoggedRequest(b"entry", 7, (bytes(32), bytes(range(32))), b"note\n\n- sig\n")
    assert logged_from_json(logged_to_json(logged)) == logged


@pytest.mark.parametrize(
    "bad",
    [{}, {"warrant_id": "w", "request_id": "r", "epoch": 1, "items": []},
     {"warrant_id": "w", "request_id": "r", "epoch": 1, "items": [{"field": "!!"}]}],
)  # fmt: skip
def test_malformed_requests_are_access_errors(bad: dict[str, object]) -> None:
    with pytest.raises(AccessError):
        request_from_json(bad)


def test_trustee_urls() -> None:
    assert parse_trustee_urls(" 1@http://a:1/ , 4@https://b") == {1: "http://a:1", 4: "https://b"}
    assert parse_trustee_urls("") == {}
    for bad in ("x@http://a", "1@ftp://a", "1http://a", "1@http://a,1@http://b"):
        with pytest.raises(ValueError):
            parse_trustee_urls(bad)


def test_token_file_holds_a_hash(tmp_path: Path) -> None:
    f = tmp_path / "token"
    f.write_text(f"sha256:{token_hash('secret')}\n")
    assert read_token_hash(f) == token_hash("secret")
    f.write_text("secret\n")
    assert read_token_hash(f) == token_hash("secret")
    f.write_text("sha256:zz\n")
    with pytest.raises(ValueError):
        read_token_hash(f)


def test_serve_refuses_a_directory_without_a_key_store(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fulcrum.cli.trustee import trustee_app

    token = tmp_path / "token"
    token.write_text("secret\n")
    args = ["serve", "--data", str(tmp_path / "nothing"), "--platform", "http://127.0.0.1:1",
            "--log-key", "x", "--witness-key", "y", "--token-file", str(token)]  # fmt: skip
    result = CliRunner().invoke(trustee_app, args)
    assert result.exit_code == 2

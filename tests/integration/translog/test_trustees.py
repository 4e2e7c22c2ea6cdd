"""In-process trustees: policy, DKG, signed and logged epoch keys, share destruction."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.encoding import b64d
from fulcrum.escrow import EpochKeyBundle, EpochKeySignature, verify_epoch_key_bundle
from fulcrum.escrow.errors import ShareDestroyedError
from fulcrum.hazmat.signing import VerifyKey
from fulcrum.server.escrow import DEFAULT_POLICY, EscrowPolicy, PolicyError, TrusteeCouncil
from fulcrum.translog import (
    EpochKey,
    ShareDestroyed,
    leaf_hash,
    parse_entry,
    verify_cosigned_checkpoint,
    verify_inclusion,
)

pytestmark = pytest.mark.integration


def test_policy_validation() -> None:
    assert EscrowPolicy.parse(DEFAULT_POLICY.to_toml()) == DEFAULT_POLICY
    for bad in (
        DEFAULT_POLICY.to_toml().replace("t = 3", "t = 6"),
        DEFAULT_POLICY.to_toml().replace('"trustee-5"', '"trustee-4"'),
        DEFAULT_POLICY.to_toml().replace("n = 5", 'n = "5"'),
        DEFAULT_POLICY.to_toml() + "extra = 1\n",
        "n = ",
    ):
        with pytest.raises(PolicyError):
            EscrowPolicy.parse(bad)


def test_epoch_key_is_signed_logged_and_cosigned(tmp_path: Path) -> None:
    srv = EmbeddedServer(
        tmp_path / "s", roles=("relay", "log"), escrow_policy=DEFAULT_POLICY
    ).start()
    try:
        with httpx.Client() as http:
            got = http.get(srv.url + "/v1/escrow/epoch-key").json()
        log = srv.app.state.fulcrum.features["translog"]
        bundle = EpochKeyBundle.from_bytes(b64d(got["bundle"]))
        keys = {i + 1: VerifyKey(b64d(k)) for i, k in enumerate(got["trustee_keys"])}
        sigs = [
            EpochKeySignature(s["trustee_index"], b64d(s["signature"])) for s in got["signatures"]
        ]
        verify_epoch_key_bundle(bundle, sigs, keys)
        cp = verify_cosigned_checkpoint(
            got["checkpoint"].encode(), log.verifier, log.witness_verifiers()
        ).checkpoint
        entry = b64d(got["entry"])
        verify_inclusion(
            leaf_hash(entry),
            got["log_index"],
            cp.size,
            [b64d(p) for p in got["inclusion"]],
            cp.root_hash,
        )
        logged = parse_entry(entry)
        assert isinstance(logged, EpochKey)
        assert logged.public_key == bundle.group_key.to_bytes()
        # shares live in per-trustee directories, never in the database
        council = srv.app.state.fulcrum.features["escrow"]
        assert isinstance(council, TrusteeCouncil)
        share_files = sorted((tmp_path / "s" / "escrow" / "trustees").glob("*/shares/*.share"))
        assert len(share_files) == 5
        db_bytes = b"".join(p.read_bytes() for p in (tmp_path / "s").glob("fulcrum.db*"))
        for store in council.stores:
            secret = store.share(bundle.epoch).secret.to_bytes()
            assert secret not in db_bytes
        # destruction at the end of retention, logged per trustee
        council.clock = lambda: (bundle.valid_until / 1000) + DEFAULT_POLICY.retention_seconds
        indices = council.destroy_expired()
        assert len(indices) == 5
        destroyed = [parse_entry(e) for e in log.entries(indices[0], indices[-1] + 1)]
        assert all(isinstance(e, ShareDestroyed) for e in destroyed)
        with pytest.raises(ShareDestroyedError):
            council.stores[0].share(bundle.epoch)
        assert not list((tmp_path / "s" / "escrow" / "trustees").glob("*/shares/*.share"))
        assert council.destroy_expired() == []
    finally:
        srv.stop()


def test_no_policy_means_no_epoch_key(log_server: EmbeddedServer) -> None:
    with httpx.Client() as http:
        got = http.get(log_server.url + "/v1/escrow/epoch-key")
    assert got.status_code == 404
    assert got.json()["error"]["code"] == "escrow_not_configured"


def test_restart_keeps_the_epoch(tmp_path: Path) -> None:
    policy = replace(DEFAULT_POLICY, n=3, t=2, trustees=("a-1", "b-2", "c-3"))
    first = EmbeddedServer(tmp_path / "s", roles=("relay", "log"), escrow_policy=policy).start()
    rec = first.app.state.fulcrum.features["escrow"].current()
    first.stop()
    again = EmbeddedServer(tmp_path / "s", roles=("relay", "log")).start()
    try:
        assert again.app.state.fulcrum.features["escrow"].current() == rec
        assert again.app.state.fulcrum.features["translog"].size() == 1
    finally:
        again.stop()

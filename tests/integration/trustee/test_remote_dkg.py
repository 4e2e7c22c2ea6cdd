"""The DKG across five trustee apps, each with its own key store; the platform only relays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from tests.integration.trustee.dkg_harness import POLICY, Platform, build

from fulcrum.client.escrow_keys import LogRoots, accept_epoch_key, offered_trustees
from fulcrum.encoding import b64e
from fulcrum.escrow.epoch import lagrange_coefficients
from fulcrum.hazmat.ristretto import Point, Scalar, base_mul
from fulcrum.server.escrow import DkgQuorumError
from fulcrum.translog import EpochKey, parse_entry

pytestmark = pytest.mark.integration
EPOCH = 7


def accepted_by_a_client(p: Platform, epoch: int) -> None:
    record = p.council.record(epoch)
    assert record is not None
    evidence = p.council.evidence(record)
    roots = LogRoots(p.log.verifier.vkey, tuple(w.vkey for w in p.log.witness_verifiers()), 2)
    bundle = accept_epoch_key(evidence, roots, offered_trustees(evidence))
    assert bundle.group_key == record.bundle.group_key
    entry = parse_entry(p.log.entries(record.log_index, record.log_index + 1)[0])
    assert isinstance(entry, EpochKey) and entry.trustees == POLICY.trustees


def combined_secret(p: Platform, epoch: int) -> Point:
    shares = p.shares(epoch)[:3]
    coeffs = lagrange_coefficients([s.index for s in shares])
    secret = Scalar.from_int(0)
    for s in shares:
        secret = secret + coeffs[s.index] * s.secret
    return base_mul(secret)


def test_five_trustee_apps_key_an_epoch_the_platform_never_sees_a_share(tmp_path: Path) -> None:
    p = build(tmp_path)
    record = p.council.ensure_epoch(EPOCH)
    assert p.council.ensure_epoch(EPOCH) == record  # idempotent: no second DKG
    accepted_by_a_client(p, EPOCH)
    shares = p.shares(EPOCH)
    assert len(shares) == 5 and len(record.signatures) == 5
    assert combined_secret(p, EPOCH) == record.bundle.group_key
    assert record.trustee_keys == tuple(s.identity().public_key().raw for s in p.stores)
    # the platform relayed sealed shares, but no share (nor any trustee secret) is in clear in
    # anything it handled, stored in its data dir, or wrote into its database
    assert any(b"ciphertext" in body for body in p.seen)
    stored = list(p.platform_bytes())
    assert stored and not (p.root / "platform" / "escrow" / "trustees").exists()
    for store in p.stores:
        secrets = [store.share(EPOCH).secret.to_bytes(), store.identity().seed,
                   store.box_key().raw]  # fmt: skip
        for secret in secrets:
            for form in (secret, b64e(secret).encode(), secret.hex().encode()):
                assert not any(form in body for body in p.seen)
                assert not any(form in blob for blob in stored)


def cheat_against_trustee_4(index: int, app: FastAPI) -> None:
    """Dealer 2 hands trustee 4 a wrong share, and repeats it when answering the complaint."""
    if index != 2:
        return
    dkg = app.state.dkg
    commit = dkg._commit

    def patched(epoch: int, *args: Any) -> Any:
        out = commit(epoch, *args)
        participant = dkg.sessions[epoch].participant
        honest = participant._share_for
        participant._share_for = lambda j: honest(j) + Scalar.from_int(1 if j == 4 else 0)
        return out

    dkg._commit = patched


def test_a_cheating_dealer_is_disqualified_by_complaint(tmp_path: Path) -> None:
    p = build(tmp_path, tamper=cheat_against_trustee_4)
    record = p.council.ensure_epoch(EPOCH)
    outcome = p.council.last_dkg
    assert outcome is not None
    assert [d for d, _ in outcome.disqualified] == [2]
    assert "trustee 4" in outcome.disqualified[0][1]
    accepted_by_a_client(p, EPOCH)
    assert combined_secret(p, EPOCH) == record.bundle.group_key


def test_one_trustee_down_the_rest_key_the_epoch(tmp_path: Path) -> None:
    p = build(tmp_path)
    p.council.ensure_epoch(EPOCH)  # every trustee enrolled (keys pinned) in a first epoch
    p.transports[4].down = True
    record = p.council.ensure_epoch(EPOCH + 1)
    assert {s.trustee_index for s in record.signatures} == {1, 2, 3, 4}
    outcome = p.council.last_dkg
    assert outcome is not None and [d for d, _ in outcome.disqualified] == [5]
    assert "trustee-5" in outcome.missing[0]
    assert not p.stores[4].has_share(EPOCH + 1)
    accepted_by_a_client(p, EPOCH + 1)
    assert combined_secret(p, EPOCH + 1) == record.bundle.group_key


def test_fewer_than_t_trustees_is_a_typed_error_naming_who_is_missing(tmp_path: Path) -> None:
    p = build(tmp_path)
    p.council.ensure_epoch(EPOCH)
    size = p.log.size()
    for t in p.transports[2:]:
        t.down = True
    with pytest.raises(DkgQuorumError) as info:
        p.council.ensure_epoch(EPOCH + 1)
    assert [m.split(" ")[0] for m in info.value.missing] == ["trustee-3", "trustee-4", "trustee-5"]
    assert "need 3" in str(info.value)
    assert p.council.record(EPOCH + 1) is None and p.log.size() == size


def test_a_never_enrolled_trustee_blocks_the_dkg(tmp_path: Path) -> None:
    p = build(tmp_path)
    p.transports[0].down = True
    with pytest.raises(DkgQuorumError) as info:
        p.council.ensure_epoch(EPOCH)
    assert info.value.missing == ("trustee-1 (never enrolled)",)

"""Remote trustees (in-process ASGI apps, each with its own key store) across an epoch's life:
an aborted DKG rerun, the validity window they accept, and each one destroying its own share."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from tests.integration.trustee.dkg_harness import POLICY, TOKEN, Platform, build
from typer.testing import CliRunner

from fulcrum.cli.trustee import trustee_app
from fulcrum.hazmat.signing import SigningKey
from fulcrum.server.escrow import DkgQuorumError
from fulcrum.translog import ShareDestroyed, parse_entry
from fulcrum.trustee import ShareDestruction, SignedDestruction

pytestmark = pytest.mark.integration
EPOCH = 7  # ended in 1970: with the trustees' retention of 0 its shares may go at once


def secrets_of(p: Platform, epoch: int) -> list[bytes]:
    return [s.share(epoch).secret.to_bytes() for s in p.stores]


def destroyed_entries(p: Platform, epoch: int) -> list[ShareDestroyed]:
    entries = (parse_entry(e) for e in p.log.entries(0, p.log.size()))
    return [e for e in entries if isinstance(e, ShareDestroyed) and e.epoch == epoch]


def test_an_aborted_dkg_is_rerun_the_unlogged_shares_are_replaced(tmp_path: Path) -> None:
    p = build(tmp_path)
    # the trustees finish a DKG but the platform never logs its key (it crashed, say)
    p.council.coordinator.run(EPOCH, *POLICY.window_ms(EPOCH))  # type: ignore[union-attr]
    aborted = secrets_of(p, EPOCH)
    assert p.council.record(EPOCH) is None
    record = p.council.ensure_epoch(EPOCH)  # a fresh session: every trustee takes part
    assert all(app.state.dkg.discarded == [EPOCH] for app in p.apps)
    fresh = secrets_of(p, EPOCH)
    assert len(record.signatures) == 5
    assert all(a != f for a, f in zip(aborted, fresh, strict=True))
    assert [s.window(EPOCH) for s in p.stores] == [POLICY.window_ms(EPOCH)] * 5


def test_a_share_whose_key_is_logged_is_never_replaced(tmp_path: Path) -> None:
    p = build(tmp_path)
    p.council.ensure_epoch(EPOCH)
    kept = secrets_of(p, EPOCH)
    size = p.log.size()
    with pytest.raises(DkgQuorumError) as info:  # a platform that tries to key it again
        p.council.coordinator.run(EPOCH, *POLICY.window_ms(EPOCH))  # type: ignore[union-attr]
    assert str(info.value).count("already keyed in the log") == 5
    assert secrets_of(p, EPOCH) == kept and p.log.size() == size
    assert all(app.state.dkg.discarded == [] for app in p.apps)


def test_without_a_readable_log_a_leftover_share_is_kept_and_no_dkg_runs(tmp_path: Path) -> None:
    p = build(tmp_path)
    p.council.coordinator.run(EPOCH, *POLICY.window_ms(EPOCH))  # type: ignore[union-attr]
    leftover = secrets_of(p, EPOCH)
    p.reader.down = True
    with pytest.raises(DkgQuorumError) as info:
        p.council.ensure_epoch(EPOCH)
    assert str(info.value).count("cannot check the log") == 5
    assert secrets_of(p, EPOCH) == leftover and p.council.record(EPOCH) is None


@pytest.mark.parametrize(
    "window",
    [
        (EPOCH * 3_600_000, EPOCH * 3_600_000 + 7_200_000),  # two hours: not their epoch length
        (EPOCH * 3_600_000 - 1_000, (EPOCH + 1) * 3_600_000),  # starts a second early
        (EPOCH * 3_600_000, EPOCH * 3_600_000 + 3_600_000),  # the control: accepted
    ],
)
def test_trustees_check_the_proposed_window_against_their_epoch_length(
    tmp_path: Path, window: tuple[int, int]
) -> None:
    p = build(tmp_path)
    coordinator = p.council.coordinator
    assert coordinator is not None
    if window == POLICY.window_ms(EPOCH):
        assert coordinator.run(EPOCH, *window).bundle.valid_until == window[1]
        return
    with pytest.raises(DkgQuorumError) as info:
        coordinator.run(EPOCH, *window)
    assert str(info.value).count("window_refused") == 5
    assert not any(s.has_share(EPOCH) for s in p.stores)


def test_each_trustee_destroys_its_own_share_and_the_platform_logs_it(tmp_path: Path) -> None:
    p = build(tmp_path)
    record = p.council.ensure_epoch(EPOCH)
    report = p.council.destroy_remote(EPOCH)
    assert report.refused == {} and len(report.indices) == 5
    assert all(s.is_destroyed(EPOCH) and not s.has_share(EPOCH) for s in p.stores)
    logged = destroyed_entries(p, EPOCH)
    assert [e.trustee_id for e in logged] == list(POLICY.trustees)
    for entry, store in zip(logged, p.stores, strict=True):
        kept = json.loads((p.root / "platform" / "escrow" / "destroyed" / str(EPOCH)
                           / f"{store.name}.json").read_text())  # fmt: skip
        signed = SignedDestruction.from_json(kept)
        signed.verify(store.identity().public_key())
        assert entry.attestation_digest == signed.attestation_digest
        index = signed.statement.share_index
        assert signed.statement.verification_key == record.bundle.verification_key(index).to_bytes()
    # idempotent: nothing is logged twice, and a trustee asked again answers the same statement
    assert p.council.destroy(EPOCH) == [] and len(destroyed_entries(p, EPOCH)) == 5
    again = asyncio.run(post(p.apps[0], f"/epochs/{EPOCH}/destroy"))
    assert again.status_code == 200 and again.json() == kept_of(p, "trustee-1")


async def post(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://trustee") as http:
        return await http.post(path, json={}, headers={"Authorization": f"Bearer {TOKEN}"})


def kept_of(p: Platform, name: str) -> object:
    path = p.root / "platform" / "escrow" / "destroyed" / str(EPOCH) / f"{name}.json"
    return json.loads(path.read_text())


def test_no_trustee_destroys_before_its_retention_ends(tmp_path: Path) -> None:
    p = build(tmp_path)
    now_epoch = POLICY.epoch_at(time.time())  # its window has not even ended yet
    p.council.ensure_epoch(now_epoch)
    size = p.log.size()
    report = p.council.destroy_remote(now_epoch)
    assert report.indices == () and len(report.refused) == 5
    assert all("retention_not_over" in why for why in report.refused.values())
    assert all(s.has_share(now_epoch) for s in p.stores) and p.log.size() == size


def impostor(signed: SignedDestruction) -> FastAPI:
    app = FastAPI()

    @app.post("/epochs/{epoch}/destroy")
    def destroy(epoch: int) -> dict[str, object]:
        return signed.to_json()

    return app


@pytest.mark.parametrize("case", ["valid", "wrong-key", "other-share", "other-epoch"])
def test_the_platform_logs_no_statement_it_cannot_check(tmp_path: Path, case: str) -> None:
    """Trustee 1's URL answers a statement signed by another key, or about another share or
    epoch (a correctly signed one about its own share is the control: it is logged)."""
    p = build(tmp_path)
    record = p.council.ensure_epoch(EPOCH)
    store = p.stores[0]
    index = 2 if case == "other-share" else 1
    vk = record.bundle.verification_key(index).to_bytes()
    epoch = EPOCH + 1 if case == "other-epoch" else EPOCH
    statement = ShareDestruction(store.name, epoch, index, vk, int(time.time()))
    key = SigningKey.generate() if case == "wrong-key" else store.identity()
    signed = SignedDestruction(statement, key.sign(statement.signed_message()))
    p.transports[0].inner = httpx.ASGITransport(app=impostor(signed))
    report = p.council.destroy_remote(EPOCH)
    names = [e.trustee_id for e in destroyed_entries(p, EPOCH)]
    if case == "valid":
        assert names == list(POLICY.trustees) and report.refused == {}
    else:
        assert names == list(POLICY.trustees[1:])
        assert "statement refused" in report.refused["trustee-1"]


def test_a_trustee_operator_destroys_on_its_own_host_and_the_platform_logs_it_later(
    tmp_path: Path,
) -> None:
    p = build(tmp_path)
    p.council.ensure_epoch(EPOCH)
    now_epoch = POLICY.epoch_at(time.time())
    p.council.ensure_epoch(now_epoch)
    store = p.stores[0]
    run = CliRunner().invoke
    early = run(trustee_app, ["destroy", "--store", str(store.directory), "--epoch",
                              str(now_epoch), "--retention-seconds", "0"])  # fmt: skip
    assert early.exit_code == 1 and "retention_not_over" in early.output
    assert store.has_share(now_epoch)
    out = run(trustee_app, ["destroy", "--store", str(store.directory), "--epoch", str(EPOCH),
                            "--retention-seconds", "0"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert store.is_destroyed(EPOCH) and not destroyed_entries(p, EPOCH)
    printed = json.loads(out.output)
    p.council.destroy(EPOCH)  # the platform asks every trustee: trustee-1 answers its statement
    assert kept_of(p, "trustee-1") == printed
    assert [e.trustee_id for e in destroyed_entries(p, EPOCH)] == list(POLICY.trustees)

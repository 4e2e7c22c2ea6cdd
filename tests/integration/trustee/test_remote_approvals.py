"""Warrant approvals decided by trustees in their own apps, each reading the log itself."""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI
from tests.integration.access.conftest import JUDGE_KEY_ID, Desk
from tests.integration.trustee.conftest import RemoteCouncil

from fulcrum.access import (
    SignedWarrant,
    TrusteeDecision,
    Warrant,
    WarrantOpening,
    sign_warrant,
    warrant_digest,
)
from fulcrum.access.decision import sign_decision
from fulcrum.encoding import b64e
from fulcrum.hazmat.signing import SigningKey
from fulcrum.server.access import AccessService
from fulcrum.server.loopback import LiveServer
from fulcrum.store.access import AccessWarrant
from fulcrum.translog import TrusteeApproval

pytestmark = pytest.mark.integration


def decisions(service: AccessService, warrant_id: str) -> list[TrusteeApproval]:
    return [e for e in service.entries()
            if isinstance(e, TrusteeApproval) and e.warrant_id == warrant_id]  # fmt: skip


def register_unchecked(service: AccessService, signed: SignedWarrant) -> str:
    """What a compromised platform could do: register a warrant without checking the judge."""
    w, now = signed.warrant, service.now()
    opening = WarrantOpening.create(signed)
    with service.db.write() as s:
        s.add(AccessWarrant(warrant_id=w.warrant_id, submitted_by="rogue-operator",
                            sealed_opening=service.seal.seal(opening.to_bytes(), w.warrant_id),
                            stage="registered", created_at=now, window_start=w.window_start,
                            window_end=w.window_end))  # fmt: skip
    service._append(w.warrant_id, opening.registration_entry(time=now, approvals_required=3))
    return w.warrant_id


def test_valid_warrant_is_approved_by_the_remote_trustees(
    desk: Desk, remote_council: RemoteCouncil
) -> None:
    signed = desk.warrant(["alice"])
    out = desk.activate(signed)
    assert out["stage"] == "approved", out
    logged = decisions(desk.service, signed.warrant.warrant_id)
    assert [d.trustee_id for d in logged] == list(remote_council.council.policy.trustees)
    assert all(d.approved and d.reasons == () for d in logged)
    # approving again asks nobody twice
    desk.service.approve(signed.warrant.warrant_id)
    assert len(decisions(desk.service, signed.warrant.warrant_id)) == 5


def test_forged_judge_signature_is_denied_by_every_trustee(
    desk: Desk, remote_council: RemoteCouncil
) -> None:
    now = int(time.time())
    w = Warrant.create(
        warrant_id="XA:police-a:forged", agency="police-a", jurisdiction="XA",
        legal_basis="CPC s. 100a", targets=["alice"], window_start=now,
        window_end=now + 86_400, issued_at=now, judge_key_id=JUDGE_KEY_ID,
    )  # fmt: skip
    forged = sign_warrant(w, SigningKey.generate())  # not the registered judge's key
    assert desk.submit(forged).status_code == 403  # the platform's own check
    wid = register_unchecked(desk.service, forged)  # ... which a rogue operator skips
    assert desk.service.approve(wid) == []
    logged = decisions(desk.service, wid)
    assert len(logged) == 5
    assert all(not d.approved and "judge-signature" in d.reasons for d in logged)
    assert desk.service.warrant(wid).stage == "denied"


def test_overbroad_scope_is_denied_and_logged(desk: Desk, remote_council: RemoteCouncil) -> None:
    signed = desk.warrant(["alice", "bob", "carol", "dave"])
    assert desk.submit(signed).status_code == 200
    assert desk.service.approve(signed.warrant.warrant_id) == []
    logged = decisions(desk.service, signed.warrant.warrant_id)
    assert len(logged) == 5 and all(d.reasons == ("too-many-targets",) for d in logged)


def test_the_trustees_own_quota_from_the_log_denies(
    desk: Desk, remote_council: RemoteCouncil
) -> None:
    """The trustees allow 2 warrants per agency (the platform's default is 20): the third is
    denied by them, so the decision is theirs, computed from their copy of the log."""
    for serial in ("1", "2"):
        assert desk.activate(desk.warrant(["alice"], serial=serial))["stage"] == "approved"
    third = desk.warrant(["alice"], serial="3")
    assert desk.submit(third).status_code == 200
    assert desk.service.approve(third.warrant.warrant_id) == []
    logged = decisions(desk.service, third.warrant.warrant_id)
    assert len(logged) == 5 and all(d.reasons == ("agency-warrant-quota",) for d in logged)


def impostor(decision: TrusteeDecision, key: SigningKey) -> FastAPI:
    app = FastAPI()

    @app.post("/approvals")
    def approvals() -> dict[str, object]:
        return {"decision": b64e(decision.to_bytes()),
                "signature": b64e(sign_decision(decision, key))}  # fmt: skip

    return app


@pytest.mark.parametrize("case", ["valid", "wrong-key", "other-warrant"])
def test_the_platform_logs_no_decision_it_cannot_check(
    desk: Desk, remote_council: RemoteCouncil, case: str
) -> None:
    """Trustee 1's URL answers an approval signed by another key, or one on another warrant (a
    correctly signed one on this warrant is the control: it is logged)."""
    signed = desk.warrant(["alice"])
    wid = signed.warrant.warrant_id
    assert desk.submit(signed).status_code == 200
    opening = desk.service.opening(wid)
    store = remote_council.stores[0]
    digest = warrant_digest(opening.signed, opening.salt)
    if case == "wrong-key":
        decision = TrusteeDecision(wid, store.name, digest, True, (), desk.service.now())
        key = SigningKey.generate()
    else:
        other = wid if case == "valid" else "XA:other:1"
        decision = TrusteeDecision(other, store.name, digest, True, (), desk.service.now())
        key = store.identity()
    port = remote_council.servers[0].port
    remote_council.servers[0].stop()
    fake = LiveServer(impostor(decision, key), port).start()
    try:
        assert desk.service.approve(wid) != []
    finally:
        fake.stop()
    names = [d.trustee_id for d in decisions(desk.service, wid)]
    first = 0 if case == "valid" else 1
    assert names == list(remote_council.council.policy.trustees[first:])


def test_a_trustee_that_is_down_gives_no_decision_and_is_asked_again(
    desk: Desk, remote_council: RemoteCouncil
) -> None:
    remote_council.servers[0].stop()
    signed = desk.warrant(["alice"])
    assert desk.activate(signed)["stage"] == "approved"  # four approvals >= t
    names = [d.trustee_id for d in decisions(desk.service, signed.warrant.warrant_id)]
    assert names == list(remote_council.council.policy.trustees[1:])
    old = remote_council.servers[0]
    remote_council.servers[0] = LiveServer(old.app, old.port).start()  # back up
    desk.service.approve(signed.warrant.warrant_id)
    names = [d.trustee_id for d in decisions(desk.service, signed.warrant.warrant_id)]
    assert sorted(names) == sorted(remote_council.council.policy.trustees)

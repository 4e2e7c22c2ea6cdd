"""Signed DKG messages, sealed shares, the roster and a trustee's refusals, without a network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fulcrum.access import Refusal, TrusteeDecision
from fulcrum.access.decision import sign_decision, verify_decision
from fulcrum.access.errors import AccessError
from fulcrum.encoding import b64e
from fulcrum.escrow.dkg import DkgParameters, DkgParticipant
from fulcrum.escrow.dkg_messages import (
    Complaint,
    DkgRosterEntry,
    SealedShare,
    SignedDkgMessage,
)
from fulcrum.escrow.errors import DkgError
from fulcrum.hazmat.box import BoxSecretKey
from fulcrum.hazmat.signing import SigningKey
from fulcrum.trustee import DkgRefused, TrusteeDkg
from fulcrum.trustee.keystore import TrusteeKeyStore

pytestmark = pytest.mark.unit
SESSION, OTHER = bytes(16), bytes([1]) * 16


def test_signed_messages_open_only_for_their_session_and_sender() -> None:
    k1, k2 = SigningKey.generate(), SigningKey.generate()
    keys = {1: k1.public_key().raw, 2: k2.public_key().raw}
    p = DkgParticipant(DkgParameters(3, 2, 2), 1)
    commit = p.commitment()
    signed = SignedDkgMessage.sign(SESSION, commit, k1)
    again = SignedDkgMessage.from_json(signed.to_json())
    assert again.open(SESSION, keys) == commit
    with pytest.raises(DkgError, match="another session"):
        again.open(OTHER, keys)
    with pytest.raises(DkgError, match="not signed by trustee 1"):
        SignedDkgMessage.sign(SESSION, commit, k2).open(SESSION, keys)  # dealer 1, key of 2
    with pytest.raises(DkgError, match="not on the roster"):
        again.open(SESSION, {2: keys[2]})
    # a complaint is the complainer's: signed by trustee 2 about dealer 1
    complaint = SignedDkgMessage.sign(SESSION, Complaint(3, 1, 2), k2)
    assert complaint.open(SESSION, keys) == Complaint(3, 1, 2)
    with pytest.raises(DkgError):
        SignedDkgMessage.sign(SESSION, p.reveal()[1][0], k1)  # a share is never broadcast


def test_sealed_share_opens_only_at_its_recipient_and_from_its_dealer() -> None:
    dealer, other = SigningKey.generate(), SigningKey.generate()
    box2, box3 = BoxSecretKey.generate(), BoxSecretKey.generate()
    p = DkgParticipant(DkgParameters(3, 3, 2), 1)
    p.commitment()
    _, shares = p.reveal()
    share = next(s for s in shares if s.recipient == 2)
    sealed = SealedShare.from_json(
        SealedShare.seal(SESSION, share, box2.public_key(), dealer).to_json()
    )
    assert b64e(share.value.to_bytes()) not in str(sealed.to_json())
    assert sealed.open(box2, dealer.public_key().raw) == share
    with pytest.raises(DkgError):
        sealed.open(box3, dealer.public_key().raw)
    with pytest.raises(DkgError):
        sealed.open(box2, other.public_key().raw)
    moved = SealedShare(sealed.session, sealed.epoch, sealed.dealer, 3, sealed.ciphertext,
                        sealed.signature)  # fmt: skip
    with pytest.raises(DkgError):
        moved.open(box2, dealer.public_key().raw)


def test_roster_entry_needs_its_box_key_signed_by_its_identity() -> None:
    identity, box = SigningKey.generate(), BoxSecretKey.generate().public_key()
    entry = DkgRosterEntry.create(1, "trustee-1", identity, box)
    assert DkgRosterEntry.from_json(entry.to_json()) == entry
    swapped = dict(entry.to_json(), box_key=b64e(BoxSecretKey.generate().public_key()))
    with pytest.raises(DkgError, match="not signed"):
        DkgRosterEntry.from_json(swapped)


def start(dkg: TrusteeDkg, roster: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    body = {"session": b64e(SESSION), "n": 3, "t": 2, "valid_from": 0, "valid_until": 10,
            "roster": roster, **kw}  # fmt: skip
    return dkg.handle(5, "commit", body)


def test_a_trustee_refuses_bad_rosters_phases_and_sessions(tmp_path: Path) -> None:
    stores = [TrusteeKeyStore(tmp_path / f"t{i}", f"trustee-{i}") for i in (1, 2, 3)]
    dkgs = [TrusteeDkg(s) for s in stores]
    roster = [d.roster_entry(i).to_json() for i, d in enumerate(dkgs, start=1)]
    me = dkgs[0]
    with pytest.raises(DkgRefused, match="own keys"):
        start(me, roster[1:])
    with pytest.raises(DkgRefused, match="distinct"):
        start(me, [roster[0], roster[0]])
    pinned = TrusteeDkg(stores[0], pinned={"trustee-2": SigningKey.generate().public_key().raw})
    with pytest.raises(DkgRefused, match="pinned"):
        start(pinned, roster)
    with pytest.raises(DkgRefused, match="malformed"):
        start(me, roster, n=70)
    assert start(me, roster)["index"] == 1
    with pytest.raises(DkgRefused, match="out of order"):
        me.handle(5, "complain", {"session": b64e(SESSION)})
    with pytest.raises(DkgRefused, match="another DKG session"):
        me.handle(5, "reveal", {"session": b64e(OTHER)})
    with pytest.raises(DkgRefused, match="no DKG session"):
        me.handle(6, "reveal", {"session": b64e(SESSION)})
    assert "secret" not in repr(me) and "trustee-1" in repr(me)


def test_decision_signature_and_strict_parse() -> None:
    key = SigningKey.generate()
    d = TrusteeDecision("XA:p:1", "trustee-1", bytes(32), False,
                        (Refusal("too-many-targets", "4 targets"),), 100)  # fmt: skip
    assert TrusteeDecision.from_bytes(d.to_bytes()) == d
    sig = sign_decision(d, key)
    assert verify_decision(d.to_bytes(), sig, key.public_key()) == d
    with pytest.raises(AccessError, match="not signed"):
        verify_decision(d.to_bytes(), sig, SigningKey.generate().public_key())
    flipped = d.to_bytes().replace(b'"approved":false', b'"approved":true')
    with pytest.raises(AccessError):
        verify_decision(flipped, sig, key.public_key())
    with pytest.raises(AccessError):
        TrusteeDecision.from_bytes(d.to_bytes() + b" ")

"""Report verification against the franking attacks of the threat model (design note 10)."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta

import pytest

from fulcrum.franking import (
    AbuseReport,
    FrankingBundle,
    GroupAudience,
    ReportError,
    ReportVerdict,
    VerdictCode,
    commit,
    new_franking_key,
    report_context,
    tag,
    verify_report,
)

from .world import World, conversation, report

pytestmark = pytest.mark.unit

V = VerdictCode


def codes(verdict: ReportVerdict) -> list[VerdictCode]:
    return [i.code for i in verdict.items]


def test_honest_report_with_context_verifies() -> None:
    w = World()
    msgs = conversation(w, 6)
    r = report("bob", msgs, chosen=[msgs[4]])
    v = verify_report(r, w.keyring, w.now)
    assert v.verified
    assert codes(v) == [V.VALID] * 6
    assert [i.chosen for i in v.items] == [False] * 4 + [True, False]
    assert v.counts() == {"valid": 6}


def test_bit_flipped_plaintext_in_report() -> None:
    w = World()
    msgs = conversation(w, 2)
    body = bytearray(msgs[0].body)
    body[3] ^= 0x10
    forged = dataclasses.replace(msgs[0], body=bytes(body))
    v = verify_report(report("bob", [forged, msgs[1]], [forged]), w.keyring, w.now)
    assert codes(v)[0] is V.BAD_COMMITMENT
    assert not v.verified


def test_random_franking_key_in_report() -> None:
    w = World()
    (m,) = conversation(w, 1)
    forged = dataclasses.replace(m, k_f=os.urandom(32))
    v = verify_report(report("bob", [forged], [forged]), w.keyring, w.now)
    assert codes(v) == [V.BAD_COMMITMENT]


def test_framing_with_fabricated_commitment_is_not_verified() -> None:
    """Reporter rewrites the body and meta and recommits with its own key: no valid tag exists."""
    w = World()
    (m,) = conversation(w, 1)
    body = b"something alice never said"
    k_f = new_franking_key()
    c = commit(k_f, m.meta, body)
    forged = dataclasses.replace(m, body=body, k_f=k_f, c=c)
    assert codes(verify_report(report("bob", [forged], [forged]), w.keyring, w.now)) == [V.BAD_TAG]
    # Editing meta (e.g. claiming a different client time) fails the same way.
    meta = dataclasses.replace(m.meta, client_ts=m.meta.client_ts - 86_400_000)
    forged2 = dataclasses.replace(m, meta=meta, c=commit(m.k_f, meta, m.body))
    assert codes(verify_report(report("bob", [forged2], [forged2]), w.keyring, w.now)) == [
        V.BAD_TAG
    ]


def test_framing_by_editing_envelope_sender_is_not_verified() -> None:
    w = World()
    m = w.send("carol", b"rude", recipients=("bob",), conv="dm:bob:carol")
    env = dataclasses.replace(m.env, sender="alice")
    meta = dataclasses.replace(m.meta, sender="alice")
    c = commit(m.k_f, meta, m.body)
    forged = dataclasses.replace(m, env=env, meta=meta, c=c)
    v = verify_report(report("bob", [forged], [forged]), w.keyring, w.now)
    assert codes(v) == [V.BAD_TAG]


def test_tag_moved_to_another_envelope() -> None:
    w = World()
    a, b = conversation(w, 2)[0], w.send("alice", b"harmless")
    moved = dataclasses.replace(b, kid=a.kid, tag=a.tag)
    assert codes(verify_report(report("bob", [moved], [moved]), w.keyring, w.now)) == [V.BAD_TAG]
    # Same commitment, envelope with another time or audience: the tag no longer fits.
    for env in (
        dataclasses.replace(a.env, server_ts=a.env.server_ts + 1),
        dataclasses.replace(a.env, recipients=("bob", "carol")),
    ):
        shifted = dataclasses.replace(a, env=env)
        verdict = verify_report(report("bob", [shifted], [shifted]), w.keyring, w.now)
        assert codes(verdict) == [V.BAD_TAG]


def test_sender_with_lying_meta_is_meta_env_mismatch() -> None:
    """A malicious sender commits to meta that names someone else; the relay tags it anyway."""
    w = World()
    m = w.send("alice", b"x", sender_device="not-the-real-device")
    v = verify_report(report("bob", [m], [m]), w.keyring, w.now)
    assert codes(v) == [V.META_ENV_MISMATCH]


def test_expired_tag_key() -> None:
    old = World(datetime(2025, 9, 30, 12, tzinfo=UTC))
    msgs = conversation(old, 2)
    r = report("bob", msgs, [msgs[0]])
    assert verify_report(r, old.keyring, datetime(2026, 9, 30, tzinfo=UTC)).verified
    later = datetime(2026, 10, 1, tzinfo=UTC)
    assert codes(verify_report(r, old.keyring, later)) == [V.EXPIRED_KEY] * 2
    ring, _ = old.keyring.advance(later)  # destroyed
    assert codes(verify_report(r, ring, later)) == [V.EXPIRED_KEY] * 2


def test_duplicates_within_and_across_reports() -> None:
    w = World()
    msgs = conversation(w, 3)
    twice = report("bob", [msgs[0], msgs[1], msgs[1], msgs[2]], [msgs[0]])
    assert codes(verify_report(twice, w.keyring, w.now)) == [V.VALID, V.VALID, V.DUPLICATE, V.VALID]
    r = report("bob", msgs, [msgs[2]])
    again = verify_report(r, w.keyring, w.now, already_reported={msgs[2].msg_id})
    assert codes(again) == [V.VALID, V.VALID, V.DUPLICATE]
    assert not again.verified
    # Context that appeared in an earlier report is not a duplicate.
    ctx = verify_report(r, w.keyring, w.now, already_reported={msgs[0].msg_id})
    assert ctx.verified


def test_reordered_context_same_sender() -> None:
    w = World()
    msgs = conversation(w, 6)  # alice: 0,2,4  bob: 1,3,5
    order = [msgs[0], msgs[1], msgs[4], msgs[3], msgs[2], msgs[5]]
    v = verify_report(report("bob", order, [msgs[4]]), w.keyring, w.now)
    assert not v.verified
    assert V.BROKEN_PREV_CHAIN in codes(v)


def test_reordered_context_across_senders_caught_by_server_order() -> None:
    w = World()
    a1, b1 = w.send("alice", b"you are great"), w.send("bob", b"I hate you")
    v = verify_report(report("alice", [b1, a1], [b1]), w.keyring, w.now)
    assert codes(v) == [V.VALID, V.BROKEN_PREV_CHAIN]


def test_omitted_context_breaks_chain() -> None:
    w = World()
    msgs = conversation(w, 6)
    without_bobs_provocation = [msgs[0], msgs[2], msgs[3], msgs[4], msgs[5]]  # bob's msgs[1] gone
    v = verify_report(report("bob", without_bobs_provocation, [msgs[4]]), w.keyring, w.now)
    assert codes(v) == [V.VALID, V.VALID, V.BROKEN_PREV_CHAIN, V.VALID, V.VALID]
    assert not v.verified


def test_forged_context_item_does_not_hide_omission() -> None:
    w = World()
    msgs = conversation(w, 4)
    fake = dataclasses.replace(msgs[1], body=b"nicer words")
    v = verify_report(report("bob", [msgs[0], fake, msgs[2], msgs[3]], [msgs[2]]), w.keyring, w.now)
    assert codes(v) == [V.VALID, V.BAD_COMMITMENT, V.VALID, V.BROKEN_PREV_CHAIN]


def test_reporter_not_a_recipient_in_dm() -> None:
    w = World()
    msgs = conversation(w, 2)
    v = verify_report(report("mallory", msgs, [msgs[0]]), w.keyring, w.now)
    assert codes(v) == [V.REPORTER_NOT_RECIPIENT] * 2
    # The reporter cannot "report" its own message either, but it may be context.
    v2 = verify_report(report("alice", msgs, [msgs[0]]), w.keyring, w.now)
    assert codes(v2) == [V.REPORTER_NOT_RECIPIENT, V.VALID]


def test_removed_group_member_cannot_report_later_messages() -> None:
    w = World()
    epoch1 = ["alice", "bob", "carol"]
    epoch2 = ["alice", "bob"]  # carol removed
    g1 = GroupAudience.of("g1", 1, epoch1)
    g2 = GroupAudience.of("g1", 2, epoch2)
    before = w.send("alice", b"before removal", conv="group:g1", group=g1)
    after = w.send("alice", b"after removal", conv="group:g1", group=g2)
    members = {("g1", 1): epoch1, ("g1", 2): epoch2}
    # Carol got the later bundle from someone else (or a stale Megolm session) and reports it.
    late = verify_report(report("carol", [after], [after]), w.keyring, w.now, group_members=members)
    assert codes(late) == [V.REPORTER_NOT_RECIPIENT]
    ok = verify_report(report("carol", [before], [before]), w.keyring, w.now, group_members=members)
    assert ok.verified
    # Without the membership record, or with a doctored list, membership cannot be shown.
    assert codes(verify_report(report("carol", [before], [before]), w.keyring, w.now)) == [
        V.REPORTER_NOT_RECIPIENT
    ]
    doctored = {("g1", 2): [*epoch2, "carol"]}
    v = verify_report(report("carol", [after], [after]), w.keyring, w.now, group_members=doctored)
    assert codes(v) == [V.REPORTER_NOT_RECIPIENT]


def test_malformed_reports_are_refused() -> None:
    w = World()
    msgs = conversation(w, 2)
    other = w.send("alice", b"x", conv="dm:alice:zed", recipients=("zed",))
    with pytest.raises(ReportError):
        report("bob", msgs, [])
    with pytest.raises(ReportError):
        report("bob", [msgs[0]], [msgs[1]])
    with pytest.raises(ReportError):
        report("bob", [*msgs, other], [msgs[0]])
    with pytest.raises(ReportError):
        report("bob", msgs, [msgs[0]], report_id="bad id!")


def test_report_roundtrip_and_verdict_stable() -> None:
    w = World()
    msgs = conversation(w, 3)
    r = report("bob", msgs, [msgs[0]])
    again = AbuseReport.parse(r.encode())
    assert again == r
    assert verify_report(again, w.keyring, w.now).verified


def test_tag_under_other_month_key_still_verifies_within_retention() -> None:
    w = World(datetime(2026, 10, 31, 23, tzinfo=UTC))
    m = w.send("alice", b"late october")
    now = datetime(2026, 11, 2, tzinfo=UTC)
    ring, _ = w.keyring.advance(now)
    assert m.kid == "2026-10"
    assert verify_report(report("bob", [m], [m]), ring, now + timedelta(days=20)).verified
    # A relay tagging in November uses the November key.
    kid, _ = tag(ring, m.c, m.env, now)
    assert kid == "2026-11"
    assert isinstance(m, FrankingBundle)


def test_report_context_adds_anchors_and_verifies_mid_conversation() -> None:
    w = World()
    history = conversation(w, 12)
    history += [w.send("alice", b"a1"), w.send("alice", b"a2"), w.send("alice", b"the bad one")]
    chosen = history[-1]
    ctx = report_context(history, {chosen.msg_id}, context=3)
    # window: bob m11, a1, a2, chosen; anchors: bob m9 and alice m10
    assert ctx[-1] is chosen
    assert list(ctx[:3]) == history[9:12]
    assert len(ctx) == 6
    assert any(b.env.sender == "bob" for b in ctx)
    v = verify_report(report("bob", list(ctx), [chosen]), w.keyring, w.now)
    assert v.verified
    # Without bob's anchor, alice's message is the only context: still verified (bob absent).
    bare = [b for b in ctx if b.env.sender == "alice"]
    assert verify_report(report("bob", bare, [chosen]), w.keyring, w.now).verified


def test_unanchored_chain_in_middle_is_flagged() -> None:
    w = World()
    history = conversation(w, 8)  # a b a b a b a b
    window = history[4:8]
    assert verify_report(report("bob", window, [history[6]]), w.keyring, w.now).verified
    # Drop bob's history[5]: bob's first submitted message (history[7]) now sits after a
    # non-first alice message, so something of bob's may be missing before it.
    v = verify_report(
        report("bob", [history[4], history[6], history[7]], [history[6]]), w.keyring, w.now
    )
    assert codes(v) == [V.VALID, V.VALID, V.BROKEN_PREV_CHAIN]
    with pytest.raises(ReportError):
        report_context(history, {b"\x00" * 16})

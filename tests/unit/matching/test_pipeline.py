"""The full private pipeline: client -> custodian (via platform) -> platform, on benign images."""

from __future__ import annotations

import pytest

from fulcrum.hazmat.signing import SigningKey
from fulcrum.matching import (
    AccountMatchingKey,
    BankManifest,
    EvaluationRejected,
    ManifestError,
    ManifestTrust,
    MatchPolicy,
    ThresholdReached,
    VoucherBundle,
    VoucherFloodError,
    bundle_bytes,
    finalize_image_vouchers,
    prepare_image_vouchers,
)
from fulcrum.matching.custodian import Custodian
from fulcrum.matching.pdq import hash_image_bytes, hash_pil

from .world import (
    NOW,
    OTHER_NAMES,
    TRANSFORMS,
    bank_images,
    generated,
    jpeg,
    make_world,
    png,
    sample,
)

pytestmark = pytest.mark.unit
DAY = 24 * 3600


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return make_world()


def test_transformed_bank_images_match_privately(world) -> None:  # type: ignore[no-untyped-def]
    account = AccountMatchingKey.generate()
    matcher = world.matcher(policy=MatchPolicy(threshold=32))
    checked = 0
    for name, transform in TRANSFORMS.items():
        for i, img in enumerate(bank_images()[:3]):
            data = transform(img)
            plain = min(h.distance(hash_pil(img)) for h in hash_image_bytes(data))
            bundle = world.send(data, account, now=NOW + checked)
            matcher.process_bundle("acct", f"{name}-{i}", bundle, NOW + checked)
            obs = matcher.observations[-1]
            if plain <= 24:  # LSH recall target distance: the private path must agree
                assert obs.verified, (name, i, plain)
                assert obs.distance == plain
            checked += 1
    verified = sum(o.verified for o in matcher.observations)
    assert verified >= 0.8 * checked


def test_unrelated_images_open_nothing(world) -> None:  # type: ignore[no-untyped-def]
    account = AccountMatchingKey.generate()
    matcher = world.matcher()
    images = [sample(n) for n in OTHER_NAMES] + [generated(i) for i in range(3)]
    for i, img in enumerate(images):
        assert matcher.process_bundle("bob", f"img{i}", world.send(jpeg(img), account), NOW) is None
    assert not any(o.payload_opened or o.verified for o in matcher.observations)
    assert all(o.max_shares_one_entry < 2 for o in matcher.observations)
    summary = matcher.leakage_summary()
    assert summary["payload_opens_per_bundle"] == 0.0


def _matched_run(world, account, count, start=NOW, step=60):  # type: ignore[no-untyped-def]
    matcher = world.matcher()
    results = []
    for i, img in enumerate(bank_images()[:count]):
        bundle = world.send(
            jpeg(img, 70), account, review=f"review-{i}".encode(), now=start + i * step
        )
        results.append(matcher.process_bundle("carol", f"m{i}", bundle, start + i * step))
    return matcher, results


def test_below_threshold_reveals_nothing(world) -> None:  # type: ignore[no-untyped-def]
    matcher, results = _matched_run(world, AccountMatchingKey.generate(), 2)  # t = 3
    assert results == [None, None]
    assert sum(o.verified for o in matcher.observations) == 2


def test_threshold_reveals_exactly_the_matched_images(world) -> None:  # type: ignore[no-untyped-def]
    account = AccountMatchingKey.generate()
    matcher = world.matcher()
    innocent = world.send(
        jpeg(sample("chelsea")), account, review=b"private holiday photo", now=NOW
    )
    assert matcher.process_bundle("dave", "innocent", innocent, NOW) is None
    released = []
    for i, img in enumerate(bank_images()[:4]):
        bundle = world.send(jpeg(img, 70), account, review=f"review-{i}".encode(), now=NOW + i)
        result = matcher.process_bundle("dave", f"m{i}", bundle, NOW + i)
        if i < 2:
            assert result is None
        else:
            assert isinstance(result, ThresholdReached)
            released.extend(result.items)
    assert [(r.image_id, r.review_material) for r in released] == [
        ("m0", b"review-0"),
        ("m1", b"review-1"),
        ("m2", b"review-2"),
        ("m3", b"review-3"),
    ]
    assert "review" not in repr(released[0])


def test_resending_one_image_does_not_reach_threshold(world) -> None:  # type: ignore[no-untyped-def]
    account = AccountMatchingKey.generate()
    matcher = world.matcher()
    data = png(bank_images()[0])
    for i in range(5):
        assert matcher.process_bundle("erin", f"dup{i}", world.send(data, account), NOW + i) is None
    assert sum(o.verified for o in matcher.observations) == 5


def test_matches_outside_window_do_not_count(world) -> None:  # type: ignore[no-untyped-def]
    _, results = _matched_run(world, AccountMatchingKey.generate(), 3, step=16 * DAY)
    assert results == [None, None, None]
    # across a generation boundary but inside 30 days: the previous generation still links them
    _, results = _matched_run(
        world, AccountMatchingKey.generate(), 3, start=NOW - NOW % (30 * DAY) - DAY, step=DAY
    )
    assert isinstance(results[2], ThresholdReached)


def test_dummy_vouchers_have_the_shape_of_real_ones(world) -> None:  # type: ignore[no-untyped-def]
    account = AccountMatchingKey.generate()
    real_pending = prepare_image_vouchers(
        jpeg(sample("coffee")), world.manifest, world.trust, account, b"x", NOW
    )
    low = png(sample("clock"))  # PDQ quality 34 < 50
    assert hash_image_bytes(low)[0].quality < 50
    dummy_pending = prepare_image_vouchers(low, world.manifest, world.trust, account, b"x", NOW)
    assert dummy_pending.hashes == (None,)
    assert len(real_pending.evaluation_request) == len(dummy_pending.evaluation_request)
    real = finalize_image_vouchers(
        real_pending, world.release.evaluator.evaluate_batch(real_pending.evaluation_request)
    )
    dummy = finalize_image_vouchers(
        dummy_pending, world.release.evaluator.evaluate_batch(dummy_pending.evaluation_request)
    )
    assert len(real) == len(dummy) == bundle_bytes(world.manifest.params, 1)
    assert real[:20] == dummy[:20]  # identical headers
    a = VoucherBundle.from_bytes(real, world.manifest.params)
    b = VoucherBundle.from_bytes(dummy, world.manifest.params)
    assert [len(v.tag) + len(v.box) for v in a.variants[0].vouchers] == [
        len(v.tag) + len(v.box) for v in b.variants[0].vouchers
    ]
    padded = world.send(jpeg(sample("coffee")), account, pad_variants=True)
    assert len(padded) == bundle_bytes(world.manifest.params, 2)
    matcher = world.matcher()
    assert matcher.process_bundle("f", "d", dummy, NOW) is None
    assert matcher.observations[-1].key_hits == 0


def test_client_refuses_untrusted_manifest_and_foreign_proof(world) -> None:  # type: ignore[no-untyped-def]
    account = AccountMatchingKey.generate()
    image = jpeg(sample("astronaut"))
    wrong = SigningKey(b"\x09" * 32)
    forged = BankManifest.from_bytes(world.manifest.to_bytes())
    from dataclasses import replace

    forged = replace(forged, custodian_key=wrong.public_key().raw).signed_by_custodian(wrong)
    with pytest.raises(ManifestError):
        prepare_image_vouchers(image, forged, world.trust, account, b"", NOW)
    one_source = ManifestTrust(world.trust.custodian_key, world.trust.source_keys, 3)
    with pytest.raises(ManifestError):
        prepare_image_vouchers(image, world.manifest, one_source, account, b"", NOW)
    # an evaluator whose key is not the one in the manifest
    rogue = Custodian(b"\x0a" * 32, world.custodian_key).evaluator(world.manifest.epoch)
    pending = prepare_image_vouchers(image, world.manifest, world.trust, account, b"", NOW)
    with pytest.raises(EvaluationRejected):
        finalize_image_vouchers(pending, rogue.evaluate_batch(pending.evaluation_request))


def test_flood_is_rate_limited(world) -> None:  # type: ignore[no-untyped-def]
    matcher = world.matcher(policy=MatchPolicy(max_bundles_per_window=3, rate_window_seconds=3600))
    bundle = world.send(jpeg(sample("moon")), AccountMatchingKey.generate())
    for i in range(3):
        matcher.process_bundle("gina", f"i{i}", bundle, NOW + i)
    with pytest.raises(VoucherFloodError):
        matcher.process_bundle("gina", "i3", bundle, NOW + 10)
    matcher.process_bundle("other", "i0", bundle, NOW + 10)  # per account
    matcher.process_bundle("gina", "i4", bundle, NOW + 3601)  # window slid


def test_default_parameters_end_to_end() -> None:
    w = make_world(m=498, threshold=5)
    assert (w.manifest.k, w.manifest.m, w.manifest.s, w.manifest.account_threshold) == (
        40,
        498,
        2,
        5,
    )
    assert w.manifest.epoch == 42
    assert len(w.release.tag_table) == 498 * w.manifest.entry_count


def test_account_state_survives_a_new_matcher(world) -> None:  # type: ignore[no-untyped-def]
    """``account_state``/``load_account``: state moved through storage between bundles (as the
    server does) releases exactly what one long-lived matcher would."""
    from fulcrum.matching import AccountState

    account = AccountMatchingKey.generate()
    stored = AccountState()
    released = []
    for i, img in enumerate(bank_images()[:3]):
        matcher = world.matcher()  # a fresh process each time
        matcher.load_account("olga", stored)
        bundle = world.send(jpeg(img, 70), account, review=f"r{i}".encode(), now=NOW + i)
        result = matcher.process_bundle("olga", f"m{i}", bundle, NOW + i)
        stored = matcher.forget_account("olga")
        assert matcher.account_state("olga") == AccountState()
        if result is not None:
            released.extend(r.image_id for r in result.items)
        assert len(stored.matches) == i + 1 and len(stored.sent) == i + 1
    assert released == ["m0", "m1", "m2"]
    assert stored.released == frozenset(released)
    # Loading the saved state again: nothing is released twice.
    matcher = world.matcher()
    matcher.load_account("olga", stored)
    bundle = world.send(jpeg(bank_images()[3], 70), account, now=NOW + 9)
    again = matcher.process_bundle("olga", "m3", bundle, NOW + 9)
    assert isinstance(again, ThresholdReached)
    assert [r.image_id for r in again.items] == ["m3"]

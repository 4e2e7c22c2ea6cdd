"""Epoch key bundles: canonical bytes, trustee signatures, substituted keys rejected."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.escrow import (
    EpochKeyBundle,
    EpochKeyBundleError,
    EpochKeySignature,
    run_dkg,
    sign_epoch_key_bundle,
    verify_epoch_key_bundle,
)
from fulcrum.hazmat.ristretto import base_mul, random_scalar
from fulcrum.hazmat.signing import SigningKey

from .support import seeded_rng

pytestmark = pytest.mark.unit

RESULTS = run_dkg(5, 3, 7, rng=seeded_rng(b"epoch"))
BUNDLE = EpochKeyBundle.from_dkg(RESULTS[0], valid_from=1_000, valid_until=605_000_000)
KEYS = {i: SigningKey(bytes([i]) * 32) for i in range(1, 6)}
PUBLIC = {i: k.public_key() for i, k in KEYS.items()}
SIGS = [sign_epoch_key_bundle(BUNDLE, i, KEYS[i]) for i in range(1, 6)]


def test_canonical_round_trip() -> None:
    assert EpochKeyBundle.from_bytes(BUNDLE.to_bytes()) == BUNDLE
    assert BUNDLE.threshold == 3
    assert BUNDLE.n == 5
    assert BUNDLE.is_valid_at(1_000)
    assert not BUNDLE.is_valid_at(605_000_000)


def test_threshold_signatures_accepted() -> None:
    assert verify_epoch_key_bundle(BUNDLE, SIGS[2:], PUBLIC) == BUNDLE
    assert verify_epoch_key_bundle(BUNDLE, SIGS, PUBLIC, min_signatures=5) == BUNDLE


def test_too_few_or_duplicate_signatures_rejected() -> None:
    with pytest.raises(EpochKeyBundleError):
        verify_epoch_key_bundle(BUNDLE, SIGS[:2], PUBLIC)
    with pytest.raises(EpochKeyBundleError):
        verify_epoch_key_bundle(BUNDLE, [SIGS[0], SIGS[0], SIGS[0]], PUBLIC)
    with pytest.raises(EpochKeyBundleError):
        verify_epoch_key_bundle(BUNDLE, SIGS, PUBLIC, min_signatures=2)


def test_signature_by_wrong_key_or_index_rejected() -> None:
    mallory = SigningKey(b"m" * 32)
    forged = [sign_epoch_key_bundle(BUNDLE, i, mallory) for i in (1, 2)] + [SIGS[2]]
    with pytest.raises(EpochKeyBundleError):
        verify_epoch_key_bundle(BUNDLE, forged, PUBLIC)
    relabelled = [EpochKeySignature(2, SIGS[0].signature), SIGS[2], SIGS[3]]
    with pytest.raises(EpochKeyBundleError):
        verify_epoch_key_bundle(BUNDLE, relabelled, PUBLIC)


def test_platform_substituted_epoch_key_rejected() -> None:
    """The platform swaps in its own group key: trustee signatures no longer cover it."""
    evil = dataclasses.replace(BUNDLE, group_key=base_mul(random_scalar()))
    with pytest.raises(EpochKeyBundleError):
        verify_epoch_key_bundle(evil, SIGS, PUBLIC)
    for changed in (
        dataclasses.replace(BUNDLE, epoch=8),
        dataclasses.replace(BUNDLE, valid_until=999_999_999),
        dataclasses.replace(BUNDLE, threshold=2),
    ):
        with pytest.raises(EpochKeyBundleError):
            verify_epoch_key_bundle(changed, SIGS, PUBLIC, min_signatures=3)


def test_inconsistent_verification_keys_rejected_even_if_signed() -> None:
    keys = list(BUNDLE.verification_keys)
    keys[4] = base_mul(random_scalar())
    bad = dataclasses.replace(BUNDLE, verification_keys=tuple(keys))
    sigs = [sign_epoch_key_bundle(bad, i, KEYS[i]) for i in range(1, 6)]
    with pytest.raises(EpochKeyBundleError):
        verify_epoch_key_bundle(bad, sigs, PUBLIC)
    other_group = dataclasses.replace(BUNDLE, group_key=base_mul(random_scalar()))
    sigs = [sign_epoch_key_bundle(other_group, i, KEYS[i]) for i in range(1, 6)]
    with pytest.raises(EpochKeyBundleError):
        verify_epoch_key_bundle(other_group, sigs, PUBLIC)


def test_trustee_key_registry_must_match() -> None:
    with pytest.raises(EpochKeyBundleError):
        verify_epoch_key_bundle(BUNDLE, SIGS, {i: PUBLIC[i] for i in range(1, 5)})


def test_invalid_bundles_refused() -> None:
    with pytest.raises(EpochKeyBundleError):
        dataclasses.replace(BUNDLE, valid_until=BUNDLE.valid_from)
    with pytest.raises(EpochKeyBundleError):
        dataclasses.replace(BUNDLE, threshold=6)
    with pytest.raises(EpochKeyBundleError):
        dataclasses.replace(BUNDLE, transcript_hash=b"short")
    with pytest.raises(EpochKeyBundleError):
        EpochKeyBundle.from_bytes(BUNDLE.to_bytes().replace(b'"epoch":7', b'"epoch":"7"'))
    with pytest.raises(EpochKeyBundleError):
        EpochKeyBundle.from_bytes(BUNDLE.to_bytes() + b" ")


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_fuzz_bundle_parser(data: bytes) -> None:
    try:
        bundle = EpochKeyBundle.from_bytes(data)
    except EpochKeyBundleError:
        return
    assert bundle.to_bytes() == data

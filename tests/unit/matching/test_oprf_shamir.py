"""hazmat.oprf against RFC 9497 (ristretto255-SHA512, VOPRF mode) and hazmat.shamir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from Crypto.Protocol.SecretSharing import Shamir

from fulcrum.hazmat import oprf, shamir
from fulcrum.hazmat.errors import CryptoError

pytestmark = pytest.mark.unit

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors" / "voprf-ristretto255-sha512.json").read_text()
)
VOPRF = VECTORS["modes"]["VOPRF"]


def _key() -> oprf.OprfKey:
    return oprf.OprfKey.from_seed(bytes.fromhex(VOPRF["Seed"]), bytes.fromhex(VOPRF["KeyInfo"]))


def test_derive_key_pair_gives_published_public_key() -> None:
    assert _key().public_key.hex() == VOPRF["pkSm"]


@pytest.mark.parametrize("tv", VOPRF["vectors"], ids=lambda tv: f"TV{tv['TestVector']}")
def test_evaluate_known_input_gives_published_outputs(tv: dict[str, object]) -> None:
    key = _key()
    inputs = str(tv["Input"]).split(",")
    outputs = str(tv["Output"]).split(",")
    assert len(inputs) == tv["Batch"]
    for x, y in zip(inputs, outputs, strict=True):
        assert key.evaluate_known_input(bytes.fromhex(x)).hex() == y


@pytest.mark.parametrize("tv", VOPRF["vectors"], ids=lambda tv: f"TV{tv['TestVector']}")
def test_blind_evaluate_gives_published_evaluation_elements(tv: dict[str, object]) -> None:
    blinded = [bytes.fromhex(b) for b in str(tv["BlindedElement"]).split(",")]
    response = _key().evaluate_batch(blinded)
    assert len(response) == oprf.PROOF_BYTES + 32 * len(blinded)
    # the proof is randomised (ProofRandomScalar cannot be injected); the elements are not
    assert response[oprf.PROOF_BYTES :].hex() == str(tv["EvaluationElement"]).replace(",", "")


def test_batch_round_trip_equals_unblinded_evaluation() -> None:
    key = _key()
    inputs = [bytes([i]) * (i + 1) for i in range(5)]
    batch = oprf.blind_batch(inputs)
    outputs = batch.finalize(key.evaluate_batch(list(batch.elements)), key.public_key)
    assert outputs == [key.evaluate_known_input(x) for x in inputs]
    single = oprf.blind_batch([b"one"])
    assert single.finalize(key.evaluate_batch(list(single.elements)), key.public_key) == [
        key.evaluate_known_input(b"one")
    ]


def test_proof_under_other_key_or_tampered_raises_crypto_error() -> None:
    key, other = _key(), oprf.OprfKey.from_seed(b"\x07" * 32, b"other")
    batch = oprf.blind_batch([b"a", b"b"])
    response = key.evaluate_batch(list(batch.elements))
    with pytest.raises(CryptoError):
        batch.finalize(response, other.public_key)
    with pytest.raises(CryptoError):  # other key's evaluation, checked against our key
        batch.finalize(other.evaluate_batch(list(batch.elements)), key.public_key)
    tampered = bytearray(response)
    tampered[-1] ^= 1
    with pytest.raises(CryptoError):
        batch.finalize(bytes(tampered), key.public_key)
    with pytest.raises(CryptoError):
        batch.finalize(response[:-32], key.public_key)
    assert "secret" not in repr(key)
    assert repr(batch) == "BlindedBatch(n=2)"


def test_invalid_elements_refused() -> None:
    assert not oprf.is_valid_element(bytes(32))  # identity
    assert not oprf.is_valid_element(b"\xff" * 32)
    with pytest.raises(CryptoError):
        _key().evaluate_batch([b"\xff" * 32])
    with pytest.raises(CryptoError):
        oprf.blind_batch([])


def test_shamir_fast_path_agrees_with_pycryptodome() -> None:
    secret, coeff = b"S" * 16, b"\x9a" * 16
    shares = shamir.split(2, 498, secret, randomness=coeff)
    assert [s.x for s in shares] == list(range(1, 499))
    for a, b in [(0, 1), (3, 400), (496, 497), (255, 256)]:
        assert shamir.combine([shares[a], shares[b]]) == secret
        assert Shamir.combine([(shares[a].x, shares[a].y), (shares[b].x, shares[b].y)]) == secret
    assert shamir.combine([shares[0]]) != secret  # one share says nothing


def test_shamir_general_threshold_and_polynomial() -> None:
    secret = b"\x00" * 15 + b"\x01"
    shares = shamir.split(3, 10, secret)
    assert shamir.combine(shares[4:7]) == secret
    assert shamir.combine(shares[4:6]) != secret
    poly = shamir.SharingPolynomial(secret, [b"a" * 16, b"b" * 16, b"c" * 16])
    points = [poly.share_at(x) for x in (1, 2**127 + 3, 77, 2**64)]
    assert shamir.combine(points) == secret
    assert poly.share_at(77) == points[2]  # deterministic
    assert shamir.combine(points[:3]) != secret
    with pytest.raises(CryptoError):
        shamir.combine([points[0], points[0]])
    with pytest.raises(CryptoError):
        shamir.split(2, 3, b"short")

"""ristretto255 hazmat: RFC 9496 vectors, strict decoding, scalar and point arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.ristretto import (
    GENERATOR,
    GROUP_ORDER,
    Point,
    Scalar,
    base_mul,
    hash_to_scalar,
    is_valid_point,
    point_from_hash,
    random_scalar,
    scalar_reduce,
)

pytestmark = pytest.mark.unit

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "ristretto255.json").read_text("utf-8")
)
MULTIPLES = VECTORS["generator_multiples"]["vectors"]
INVALID = VECTORS["invalid_encodings"]["vectors"]
FROM_HASH = VECTORS["from_uniform_bytes"]


def test_vector_counts() -> None:
    assert len(MULTIPLES) == 16
    assert len(INVALID) == 29
    assert len(FROM_HASH["vectors"]) == 7


@pytest.mark.parametrize("vec", MULTIPLES, ids=lambda v: f"B{v['multiple']}")
def test_a1_generator_multiples(vec: dict[str, object]) -> None:
    expected = bytes.fromhex(str(vec["encoding"]))
    assert base_mul(Scalar.from_int(int(str(vec["multiple"])))).to_bytes() == expected
    assert GENERATOR.mul(Scalar.from_int(int(str(vec["multiple"])))).to_bytes() == expected


def test_a1_successive_addition() -> None:
    acc = Point.identity()
    for vec in MULTIPLES:
        assert acc.to_bytes() == bytes.fromhex(vec["encoding"])
        acc = acc + GENERATOR


def test_a1_identity_rejected_by_strict_decoder_but_valid_encoding() -> None:
    identity = bytes.fromhex(MULTIPLES[0]["encoding"])
    Point(identity)  # a valid encoding...
    with pytest.raises(CryptoError):
        Point.from_bytes(identity)  # ...that the strict decoder refuses
    assert not is_valid_point(identity)
    for vec in MULTIPLES[1:]:
        assert Point.from_bytes(bytes.fromhex(vec["encoding"])).to_bytes().hex() == vec["encoding"]


@pytest.mark.parametrize("vec", INVALID, ids=lambda v: v["encoding"][:16])
def test_a2_invalid_encodings_rejected(vec: dict[str, str]) -> None:
    raw = bytes.fromhex(vec["encoding"])
    assert not is_valid_point(raw)
    with pytest.raises(CryptoError):
        Point.from_bytes(raw)
    with pytest.raises(CryptoError):
        Point(raw)


@pytest.mark.parametrize("vec", FROM_HASH["vectors"], ids=lambda v: v["O"][:16])
def test_a3_from_uniform_bytes(vec: dict[str, str]) -> None:
    import hashlib

    data = bytes.fromhex(vec["I"])
    assert hashlib.sha512(vec["input_string"].encode()).digest() == data
    assert point_from_hash(data).to_bytes().hex() == vec["O"]


def test_a3_four_inputs_one_output() -> None:
    same = FROM_HASH["same_output"]
    outs = {point_from_hash(bytes.fromhex(i)).to_bytes().hex() for i in same["inputs"]}
    assert outs == {same["output"]}


def test_wrong_lengths_rejected() -> None:
    for n in (0, 31, 33, 64):
        with pytest.raises(CryptoError):
            Point.from_bytes(bytes(n))
        with pytest.raises(CryptoError):
            Scalar.from_bytes(bytes(n))
    with pytest.raises(CryptoError):
        scalar_reduce(bytes(32))
    with pytest.raises(CryptoError):
        point_from_hash(bytes(32))


def test_non_canonical_scalars_rejected() -> None:
    with pytest.raises(CryptoError):
        Scalar.from_bytes(GROUP_ORDER.to_bytes(32, "little"))
    with pytest.raises(CryptoError):
        Scalar.from_bytes(b"\xff" * 32)
    top = Scalar.from_bytes((GROUP_ORDER - 1).to_bytes(32, "little"))
    assert (top + Scalar.from_int(1)).is_zero()


def test_scalar_reduce_matches_integer_reduction() -> None:
    data = bytes(range(64))
    assert scalar_reduce(data).to_int() == int.from_bytes(data, "little") % GROUP_ORDER


@given(st.integers(min_value=0, max_value=GROUP_ORDER - 1), st.integers(1, GROUP_ORDER - 1))
def test_scalar_field_arithmetic(a: int, b: int) -> None:
    sa, sb = Scalar.from_int(a), Scalar.from_int(b)
    assert (sa + sb).to_int() == (a + b) % GROUP_ORDER
    assert (sa - sb).to_int() == (a - b) % GROUP_ORDER
    assert (sa * sb).to_int() == (a * b) % GROUP_ORDER
    assert (-sa).to_int() == (-a) % GROUP_ORDER
    assert (sb * sb.invert()).to_int() == 1


def test_zero_has_no_inverse() -> None:
    with pytest.raises(CryptoError):
        Scalar.from_int(0).invert()


def test_point_arithmetic_is_a_group_homomorphism() -> None:
    a, b = random_scalar(), random_scalar()
    pa, pb = base_mul(a), base_mul(b)
    assert pa + pb == base_mul(a + b)
    assert pa - pb == base_mul(a - b)
    assert a * pb == b * pa == base_mul(a * b)
    assert (pa - pa).is_identity()
    assert -pa + pa == Point.identity()
    assert base_mul(Scalar.from_int(0)).is_identity()
    assert pa.mul(b.invert()).mul(b) == pa


def test_random_scalars_differ_and_are_nonzero() -> None:
    seen = {random_scalar().to_bytes() for _ in range(50)}
    assert len(seen) == 50
    assert not any(Scalar.from_bytes(s).is_zero() for s in seen)


def test_hash_to_scalar_is_domain_separated_and_length_prefixed() -> None:
    assert hash_to_scalar("a", b"bc") != hash_to_scalar("a", b"b", b"c")
    assert hash_to_scalar("x", b"1") != hash_to_scalar("y", b"1")
    assert hash_to_scalar("x", b"1") == hash_to_scalar("x", b"1")


def test_values_are_immutable_and_scalars_not_printed() -> None:
    s = Scalar.from_int(12345)
    assert "12345" not in repr(s)
    assert s.to_bytes().hex() not in repr(s)
    with pytest.raises(AttributeError):
        s._raw = b""
    with pytest.raises(AttributeError):
        GENERATOR._raw = b""


@given(st.binary(min_size=0, max_size=40))
def test_fuzz_point_decoder_never_crashes(data: bytes) -> None:
    try:
        p = Point.from_bytes(data)
    except CryptoError:
        return
    assert p.to_bytes() == data
    assert not p.is_identity()


def test_only_hazmat_imports_rbcl() -> None:
    src = Path(__file__).resolve().parents[3] / "src" / "fulcrum"
    offenders = [
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if "hazmat" not in path.parts
        and any(
            line.strip().startswith(("import rbcl", "from rbcl"))
            for line in path.read_text("utf-8").splitlines()
        )
    ]
    assert offenders == []

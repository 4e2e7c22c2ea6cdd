import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json, domain_message, lp

pytestmark = pytest.mark.unit

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400)
@given(json_values)
def test_fast_path_matches_rfc8785(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(EncodingError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


def test_floats_and_astral_keys_use_the_reference() -> None:
    value = {"\U0001f600": 1, "\uffff": 2, "x": 1.5}
    assert canonical_json(value) == rfc8785.dumps(value)
    with pytest.raises(EncodingError):
        canonical_json({"n": float("nan")})
    with pytest.raises(EncodingError):
        canonical_json({"big": 2**60})


def test_known_vector() -> None:
    assert canonical_json({"b": [1, "é", None], "a": True}) == b'{"a":true,"b":[1,"\xc3\xa9",null]}'


def test_lp_and_domain_message() -> None:
    assert lp(b"ab") == b"\x00\x00\x00\x02ab"
    assert domain_message("frank-v1", b"x", b"") == b"frank-v1\x00\x00\x00\x01x\x00\x00\x00\x00"


@given(st.binary(max_size=64))
def test_b64_round_trip(data: bytes) -> None:
    assert b64d(b64e(data)) == data


@pytest.mark.parametrize("bad", ["a=b", "ab$", "AB=="[:3] + "!", "A"])
def test_b64_rejects_junk(bad: str) -> None:
    with pytest.raises(EncodingError):
        b64d(bad)


def test_b64_length_checked() -> None:
    with pytest.raises(EncodingError):
        b64d(b64e(b"abc"), length=4)


flat_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(max_codepoint=127), max_size=6), children, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.text(alphabet=st.characters(max_codepoint=127), max_size=6), flat_values, max_size=5
    )
)
def test_flat_fast_path_matches_rfc8785(value: dict[str, object]) -> None:
    from fulcrum.encoding import canonical_json_flat

    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(EncodingError):
            canonical_json_flat(value)
        return
    assert canonical_json_flat(value) == expected

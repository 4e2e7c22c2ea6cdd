"""PDQ hashing and its hex form (threatexchange-compatible), trimming, LSH keys, Merkle roots."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from fulcrum.matching import ImageDecodeError, MatchingParams, PdqHash, hash_image_bytes, lsh_keys
from fulcrum.matching.lsh import bit_positions
from fulcrum.matching.manifest import merkle_root
from fulcrum.matching.pdq import hamming, trim_uniform_border

from .world import generated, png, sample

pytestmark = pytest.mark.unit


def test_hex_and_distance_match_threatexchange() -> None:
    pytest.importorskip("threatexchange")
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes
    from threatexchange.signal_type.pdq.pdq_utils import simple_distance

    a, b = png(sample("astronaut")), png(sample("coffee"))
    ours_a, ours_b = hash_image_bytes(a)[0], hash_image_bytes(b)[0]
    tx_a, q_a = pdq_from_bytes(a)
    assert ours_a.hex == tx_a
    assert ours_a.quality == q_a
    assert PdqHash.from_hex(tx_a) == PdqHash(ours_a.value, 100)
    assert ours_a.distance(ours_b) == simple_distance(tx_a, pdq_from_bytes(b)[0])


def test_border_trim_gives_second_variant_that_matches_original() -> None:
    img = sample("rocket")
    bordered = ImageOps.expand(img, border=(30, 10, 30, 10), fill=(0, 0, 0))
    hashes = hash_image_bytes(png(bordered))
    original = hash_image_bytes(png(img))
    assert len(original) == 1
    assert len(hashes) == 2
    assert hashes[1].distance(original[0]) <= 8 < hashes[0].distance(original[0])
    assert trim_uniform_border(img) is img


def test_exif_orientation_applied() -> None:
    img = generated(5)
    rotated = img.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": stored image is the CCW-rotated one
    buf = io.BytesIO()
    rotated.save(buf, "PNG", exif=exif)
    assert hash_image_bytes(buf.getvalue())[0].distance(hash_image_bytes(png(img))[0]) <= 4


def test_large_images_reduced_and_bad_bytes_typed() -> None:
    big = sample("coffee").resize((2400, 1600))
    assert hash_image_bytes(png(big))[0].distance(hash_image_bytes(png(sample("coffee")))[0]) < 16
    with pytest.raises(ImageDecodeError):
        hash_image_bytes(b"not an image")
    flat = Image.new("RGB", (200, 200), (120, 120, 120))
    assert not hash_image_bytes(png(flat))[0].usable


def test_lsh_keys_are_j_prefixed_and_agree_on_shared_bits() -> None:
    params = MatchingParams(epoch=1, lsh_seed=b"\x05" * 32)
    pos = bit_positions(params)
    assert pos.shape == (498, 40)
    assert all(len(set(row)) == 40 for row in pos.tolist())
    h = PdqHash(bytes(range(32)))
    keys = lsh_keys(h, params)
    assert len(keys) == 498
    assert all(len(k) == 7 for k in keys)
    assert [int.from_bytes(k[:2], "big") for k in keys] == list(range(498))
    flipped_bit = int(pos[0, 0])
    bits = h.bits.copy()
    bits[flipped_bit] ^= 1
    other = PdqHash(np.packbits(bits).tobytes())
    assert hamming(h.value, other.value) == 1
    diff = [j for j, (a, b) in enumerate(zip(keys, lsh_keys(other, params))) if a != b]
    assert diff == [j for j in range(498) if flipped_bit in pos[j].tolist()]
    assert lsh_keys(h, MatchingParams(epoch=1, lsh_seed=b"\x06" * 32)) != keys


def test_merkle_root_matches_rfc9162_vectors() -> None:
    vec = json.loads((Path(__file__).parents[2] / "vectors" / "rfc9162-merkle.json").read_text())
    leaves = [bytes.fromhex(x) for x in vec["leaves"]]
    assert len(vec["roots"]) == 9
    for item in vec["roots"]:
        assert merkle_root(leaves[: item["tree_size"]]).hex() == item["root"]

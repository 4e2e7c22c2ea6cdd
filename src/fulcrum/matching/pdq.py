"""PDQ perceptual hashes: pinned decode, normalisation and hashing, Hamming distance, hex form.

The hex form is the one python-threatexchange uses (``PdqSignal``): 64 lowercase hex digits,
bit 0 of the pdqhash vector being the most significant bit of the first digit.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image, ImageOps

from fulcrum.matching.errors import ImageDecodeError

PDQ_BITS = 256
PDQ_BYTES = 32
QUALITY_THRESHOLD = 50
MATCH_DISTANCE = 31
STRICT_MATCH_DISTANCE = 24
MAX_SIDE = 1024
MAX_PIXELS = 64_000_000  # refuse decompression bombs before decoding
TRIM_TOLERANCE = 8  # a border row/column is "uniform" if it stays within this of the corner colour


@dataclass(frozen=True)
class PdqHash:
    """A 256-bit PDQ hash with its quality score (0..100)."""

    value: bytes
    quality: int = 100

    def __post_init__(self) -> None:
        if len(self.value) != PDQ_BYTES:
            raise ValueError("a PDQ hash is 32 bytes")

    @classmethod
    def from_hex(cls, text: str, quality: int = 100) -> PdqHash:
        return cls(pdq_from_hex(text), quality)

    @property
    def hex(self) -> str:
        return self.value.hex()

    @property
    def bits(self) -> np.ndarray:
        bits: np.ndarray = np.unpackbits(np.frombuffer(self.value, dtype=np.uint8))
        return bits

    @property
    def usable(self) -> bool:
        return self.quality >= QUALITY_THRESHOLD

    def distance(self, other: PdqHash) -> int:
        return hamming(self.value, other.value)


def pdq_from_hex(text: str) -> bytes:
    if not isinstance(text, str) or len(text) != 2 * PDQ_BYTES:
        raise ValueError("a PDQ hex hash is 64 hex digits")
    try:
        value = bytes.fromhex(text)
    except ValueError as exc:
        raise ValueError("a PDQ hex hash is 64 hex digits") from exc
    return value


def hamming(a: bytes, b: bytes) -> int:
    if len(a) != len(b):
        raise ValueError("hashes differ in length")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def hamming_many(query: bytes, packed: np.ndarray) -> np.ndarray:
    """Distances from one hash to each row of an (n, 32) uint8 array."""
    q = np.frombuffer(query, dtype=np.uint8)
    out: np.ndarray = np.unpackbits(np.bitwise_xor(packed, q), axis=1).sum(axis=1)
    return out


def decode_image(data: bytes) -> Image.Image:
    """Decode with the pinned Pillow, apply the EXIF orientation and convert to RGB."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            if opened.width * opened.height > MAX_PIXELS:
                raise ImageDecodeError("image too large")
            opened.load()
            return ImageOps.exif_transpose(opened).convert("RGB")
    except ImageDecodeError:
        raise
    except Exception as exc:
        raise ImageDecodeError(f"cannot decode image: {type(exc).__name__}") from exc


def trim_uniform_border(img: Image.Image) -> Image.Image:
    """Remove uniform-colour borders on each side (same colour as the nearest corner)."""
    arr = np.asarray(img, dtype=np.int16)
    h, w = arr.shape[:2]

    def uniform(line: np.ndarray, ref: np.ndarray) -> bool:
        return bool(np.abs(line - ref).max() <= TRIM_TOLERANCE)

    top, bottom, left, right = 0, h, 0, w
    corner = arr[0, 0]
    while top < bottom - 1 and uniform(arr[top, left:right], corner):
        top += 1
    corner = arr[h - 1, w - 1]
    while bottom - 1 > top and uniform(arr[bottom - 1, left:right], corner):
        bottom -= 1
    corner = arr[top, 0]
    while left < right - 1 and uniform(arr[top:bottom, left], corner):
        left += 1
    corner = arr[bottom - 1, w - 1]
    while right - 1 > left and uniform(arr[top:bottom, right - 1], corner):
        right -= 1
    if (top, bottom, left, right) == (0, h, 0, w):
        return img
    if bottom - top < 16 or right - left < 16:  # a (near-)uniform image: nothing to trim to
        return img
    return img.crop((left, top, right, bottom))


def reduce_size(img: Image.Image, max_side: int = MAX_SIDE) -> Image.Image:
    if max(img.size) <= max_side:
        return img
    scale = max_side / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.BILINEAR)


def hash_pil(img: Image.Image) -> PdqHash:
    """PDQ of an RGB image (as is: no trimming or resizing)."""
    vector, quality = pdqhash.compute(np.asarray(img.convert("RGB")))
    packed = np.packbits(np.asarray(vector, dtype=np.uint8))
    return PdqHash(packed.tobytes(), int(quality))


def image_variants(data: bytes) -> list[Image.Image]:
    """The images to hash for one upload: the normalised image, plus its border-trimmed form
    when trimming changed it. Each is reduced to <= 1024 px on its longer side."""
    img = decode_image(data)
    trimmed = trim_uniform_border(img)
    variants = [reduce_size(img)]
    if trimmed is not img:
        variants.append(reduce_size(trimmed))
    return variants


def hash_image_bytes(data: bytes) -> list[PdqHash]:
    """PDQ hashes of every variant of an image file (see ``image_variants``)."""
    return [hash_pil(v) for v in image_variants(data)]

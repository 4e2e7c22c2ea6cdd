"""Benign generated images for the harness: the stand-in "known" bank items, ordinary benign media,
off-list look-alikes, and the edits a re-shared copy goes through.

Never real harmful material: every image is drawn from a seeded generator. An ``ImageSpec`` names
an image exactly, so identical specs give identical bytes (and identical PDQ hashes) in any process.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

SIZE = 256
BANK_SEED = 7_000_000  # the bank's bases come from their own seed range
BENIGN_SEED = 20_000_000
EDITS = (
    "none",
    "jpeg",
    "resize",
    "reshare",
    "caption",
    "crop1",
    "crop5",
    "rotate1",
    "rotate3",
    "flip",
    "border",
)
# Relative frequency of each edit among planted re-shares of known items.
EDIT_WEIGHTS = (3, 3, 2, 3, 2, 1, 1, 1, 1, 1, 1)


@dataclass(frozen=True)
class ImageSpec:
    kind: str  # "bank" | "benign" | "lookalike"
    base: int
    edit: str = "none"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.base}:{self.edit}"


def _draw(seed: int, style: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    if style == 0:  # bank style: gradients with shapes
        base = np.stack(
            [(xx * rng.uniform(0.2, 1) + yy * rng.uniform(0, 0.6)) % 256 for _ in range(3)], axis=2
        )
    else:  # everyday media: smooth blobs, a different family from the bank's
        small = rng.integers(0, 256, (6, 6, 3)).astype(np.uint8)
        base = np.asarray(Image.fromarray(small).resize((SIZE, SIZE), Image.Resampling.BICUBIC))
    img = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(10):
        x0, y0 = int(rng.integers(0, SIZE - 20)), int(rng.integers(0, SIZE - 20))
        box = (x0, y0, x0 + int(rng.integers(20, SIZE // 2)), y0 + int(rng.integers(20, SIZE // 2)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return img


def base_image(kind: str, base: int) -> Image.Image:
    if kind == "bank":
        return _draw(BANK_SEED + base, 0)
    if kind == "lookalike":  # a bank item with new large shapes over it: similar, not listed
        img = _draw(BANK_SEED + base % 1000, 0)
        rng = np.random.default_rng(BANK_SEED * 3 + base)
        draw = ImageDraw.Draw(img)
        for _ in range(4):
            x0, y0 = int(rng.integers(0, SIZE // 2)), int(rng.integers(0, SIZE // 2))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            draw.rectangle((x0, y0, x0 + SIZE // 2, y0 + SIZE // 3), fill=colour)
        return img
    return _draw(BENIGN_SEED + base, 1)


def _jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _crop(img: Image.Image, frac: float) -> Image.Image:
    dx, dy = round(img.width * frac), round(img.height * frac)
    return img.crop((dx, dy, img.width, img.height))


def _caption(img: Image.Image) -> Image.Image:
    out = img.copy()
    draw = ImageDraw.Draw(out)
    draw.rectangle((4, out.height - 18, 70, out.height - 4), fill=(255, 255, 255))
    draw.text((6, out.height - 17), "lol", fill=(0, 0, 0))
    return out


def edited(img: Image.Image, edit: str) -> bytes:
    """The bytes of ``img`` after ``edit`` (one of ``EDITS``)."""
    match edit:
        case "none":
            return _jpeg(img, 90)
        case "jpeg":
            return _jpeg(img, 40)
        case "resize":
            return _jpeg(img.resize((img.width // 2, img.height // 2)), 85)
        case "reshare":
            small = img.resize((round(img.width * 0.7), round(img.height * 0.7)))
            return _jpeg(ImageEnhance.Brightness(small).enhance(1.15), 60)
        case "caption":
            return _jpeg(_caption(img), 85)
        case "crop1":
            return _jpeg(_crop(img, 0.01), 85)
        case "crop5":
            return _jpeg(_crop(img, 0.05), 85)
        case "rotate1":
            return _jpeg(img.rotate(1, resample=Image.Resampling.BILINEAR, fillcolor="white"), 85)
        case "rotate3":
            return _jpeg(img.rotate(3, resample=Image.Resampling.BILINEAR, fillcolor="white"), 85)
        case "flip":
            return _jpeg(ImageOps.mirror(img), 85)
        case "border":
            return _png(ImageOps.expand(img, border=32, fill=(250, 250, 250)))
    raise ValueError(f"unknown edit {edit!r}")


def render(spec: ImageSpec) -> bytes:
    return edited(base_image(spec.kind, spec.base), spec.edit)

"""Edits applied to benign stand-in images in demos, tests and evaluations (never real material):
encoders and the small caption overlay, so every user of a "known-image" bank edits alike."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def encode_jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def add_caption(img: Image.Image, text: str = "lol") -> Image.Image:
    """A small white label in the bottom-left corner, as a meme caption would add."""
    out = img.copy()
    draw = ImageDraw.Draw(out)
    draw.rectangle((4, out.height - 18, 70, out.height - 4), fill=(255, 255, 255))
    draw.text((6, out.height - 17), text, fill=(0, 0, 0))
    return out

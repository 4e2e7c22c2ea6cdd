"""A small benign world for the matching tests: scikit-image samples and generated images in a
test bank, a custodian, signed manifest, trust roots and helpers to run the private pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps
from skimage import data as skdata

from fulcrum.hazmat.signing import SigningKey
from fulcrum.matching import (
    AccountMatchingKey,
    BankManifest,
    Custodian,
    EpochRelease,
    HashBank,
    ManifestTrust,
    PlatformMatcher,
    SourceListing,
    finalize_image_vouchers,
    prepare_image_vouchers,
)
from fulcrum.matching.benign import add_caption as caption
from fulcrum.matching.benign import encode_jpeg as jpeg
from fulcrum.matching.benign import encode_png as png
from fulcrum.matching.pdq import hash_pil

NOW = 1_750_000_000
BANK_NAMES = ("astronaut", "coffee", "rocket", "camera", "immunohistochemistry", "brick")
OTHER_NAMES = ("chelsea", "coins", "colorwheel", "hubble_deep_field", "gravel", "page", "moon")


@lru_cache(maxsize=32)
def sample(name: str) -> Image.Image:
    arr = np.asarray(getattr(skdata, name)())
    return Image.fromarray(arr).convert("RGB")


def generated(seed: int, size: tuple[int, int] = (384, 320)) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack(
        [(xx * rng.uniform(0.2, 1) + yy * rng.uniform(0, 0.6)) % 256 for _ in range(3)], axis=2
    )
    img = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
        box = (x0, y0, x0 + int(rng.integers(20, w // 2)), y0 + int(rng.integers(20, h // 2)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return img


TRANSFORMS = {
    "jpeg_q70": lambda im: jpeg(im, 70),
    "resize_50": lambda im: jpeg(im.resize((im.width // 2, im.height // 2)), 90),
    "brightness": lambda im: jpeg(ImageEnhance.Brightness(im).enhance(1.25), 90),
    "caption": lambda im: jpeg(caption(im), 90),
    "border": lambda im: png(ImageOps.expand(im, border=40, fill=(250, 250, 250))),
}


@dataclass
class World:
    custodian_key: SigningKey
    source_keys: dict[str, SigningKey]
    release: EpochRelease
    manifest: BankManifest
    trust: ManifestTrust

    def matcher(self, **kwargs: object) -> PlatformMatcher:
        return PlatformMatcher(self.manifest, self.release.tag_table, trust=self.trust, **kwargs)  # type: ignore[arg-type]

    def send(
        self,
        image: bytes,
        account: AccountMatchingKey,
        review: bytes = b"",
        now: int = NOW,
        **kwargs: bool,
    ) -> bytes:
        pending = prepare_image_vouchers(
            image, self.manifest, self.trust, account, review, now, **kwargs
        )
        response = self.release.evaluator.evaluate_batch(pending.evaluation_request)
        return finalize_image_vouchers(pending, response)


def bank_images() -> list[Image.Image]:
    return [sample(n) for n in BANK_NAMES] + [generated(1000 + i) for i in range(2)]


@lru_cache(maxsize=4)
def make_world(m: int = 498, threshold: int = 3, epoch: int = 42) -> World:
    custodian_key = SigningKey(b"\x01" * 32)
    source_keys = {"hotline-a": SigningKey(b"\x02" * 32), "hotline-b": SigningKey(b"\x03" * 32)}
    bank = HashBank("test-bank")
    for i, img in enumerate(bank_images()):
        h = hash_pil(img).value
        bank.add_listings(
            [SourceListing(h, "hotline-a", f"a-{i}"), SourceListing(h, "hotline-b", f"b-{i}")]
        )
    custodian = Custodian(b"\x04" * 32, custodian_key)
    release = custodian.publish_epoch(epoch, bank.entries(), m=m, account_threshold=threshold)
    manifest = release.manifest
    for name, key in source_keys.items():
        manifest = manifest.cosigned(name, key)
    trust = ManifestTrust(
        custodian_key.public_key(), {n: k.public_key() for n, k in source_keys.items()}
    )
    return World(custodian_key, source_keys, release, manifest, trust)

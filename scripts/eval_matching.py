"""Evaluate private matching against plaintext PDQ matching on a benign corpus.

Corpus: scikit-image sample images bundled with the package plus generated images (gradients,
noise, Pillow-drawn shapes). Half go into a test bank (two sources each); the other half are
"innocent". Each bank image is transformed (facts.md transforms) and sent through the private
pipeline; innocent images (and their transforms) measure stray key hits and payload opens.

Recall is reported as private verified matches / plaintext PDQ matches at distance 31 on the
same (transformed, original) pairs. Default mode "direct" computes each y_j with the custodian's
evaluate_known_input (bit-identical to the blind/evaluate/finalize round trip, which the unit
tests check) to keep runs short; --mode full runs the VOPRF round trip for every image.

    python scripts/eval_matching.py            # ~200 images, a minute or two
    python scripts/eval_matching.py --n 2000   # a larger corpus
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps
from skimage import data as skdata

from fulcrum.hazmat.signing import SigningKey
from fulcrum.matching import (
    AccountMatchingKey,
    Custodian,
    HashBank,
    ManifestTrust,
    MatchPolicy,
    PlatformMatcher,
    SourceListing,
    finalize_image_vouchers,
    hash_image_bytes,
    lsh_keys,
    prepare_image_vouchers,
)
from fulcrum.matching.pdq import hash_pil
from fulcrum.matching.voucher import seal_image_vouchers

SAMPLES = [
    "astronaut",
    "brick",
    "camera",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "colorwheel",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "logo",
    "microaneurysms",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
    "checkerboard",
    "shepp_logan_phantom",
    "stereo_motorcycle",
]
NOW = 1_750_000_000


def sample_images() -> list[Image.Image]:
    out = []
    for name in SAMPLES:
        arr = getattr(skdata, name)()
        if isinstance(arr, tuple):
            arr = arr[0]
        arr = np.asarray(arr)
        if arr.dtype != np.uint8:
            arr = (255 * (arr - arr.min()) / (np.ptp(arr) + 1e-9)).astype(np.uint8)
        out.append(Image.fromarray(arr).convert("RGB"))
    return out


def generated_image(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = int(rng.integers(256, 800)), int(rng.integers(256, 800))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    chans = []
    for _ in range(3):
        f1, f2, ph = rng.uniform(0.002, 0.05), rng.uniform(0.002, 0.05), rng.uniform(0, 6.3)
        chans.append(127 + 120 * np.sin(xx * f1 + yy * f2 + ph))
    base = np.stack(chans, axis=2) + rng.normal(0, rng.uniform(0, 25), (h, w, 3))
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 30))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(10, w // 2)), y0 + int(rng.integers(10, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = rng.integers(0, 3)
        if shape == 0:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        elif shape == 1:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(1, 12)))
    return img


def corpus(n: int) -> list[Image.Image]:
    images = sample_images()
    seed = 0
    while len(images) < n:
        images.append(generated_image(seed))
        seed += 1
    return images[:n]


def _jpeg(img: Image.Image, q: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=q)
    return buf.getvalue()


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _caption(img: Image.Image) -> Image.Image:
    out = img.copy()
    d = ImageDraw.Draw(out)
    d.rectangle((4, out.height - 20, 90, out.height - 4), fill=(255, 255, 255))
    d.text((6, out.height - 19), "caption", fill=(0, 0, 0))
    return out


def _crop(img: Image.Image, frac: float) -> Image.Image:
    dx, dy = int(img.width * frac), int(img.height * frac)
    return img.crop((dx, dy, img.width - dx, img.height - dy))


def _noise(img: Image.Image) -> Image.Image:
    arr = np.asarray(img, dtype=np.float32)
    noisy = arr + np.random.default_rng(0).normal(0, 8, arr.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


TRANSFORMS: dict[str, Callable[[Image.Image], bytes]] = {
    "jpeg_q70": lambda im: _jpeg(im, 70),
    "jpeg_q30": lambda im: _jpeg(im, 30),
    "resize_50": lambda im: _jpeg(im.resize((im.width // 2, im.height // 2)), 90),
    "grayscale": lambda im: _jpeg(ImageOps.grayscale(im).convert("RGB"), 90),
    "brightness": lambda im: _jpeg(ImageEnhance.Brightness(im).enhance(1.3), 90),
    "contrast": lambda im: _jpeg(ImageEnhance.Contrast(im).enhance(1.3), 90),
    "blur": lambda im: _jpeg(im.filter(ImageFilter.GaussianBlur(1.5)), 90),
    "noise": lambda im: _jpeg(_noise(im), 90),
    "reshare": lambda im: _jpeg(
        ImageEnhance.Brightness(im.resize((int(im.width * 0.7), int(im.height * 0.7)))).enhance(
            1.1
        ),
        60,
    ),
    "caption": lambda im: _jpeg(_caption(im), 90),
    "border": lambda im: _png(ImageOps.expand(im, border=32, fill=(255, 255, 255))),
    "crop_1pct": lambda im: _jpeg(_crop(im, 0.01), 90),
    "rotate_1deg": lambda im: _jpeg(im.rotate(1, resample=Image.Resampling.BILINEAR), 90),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="corpus size (half bank, half innocent)")
    ap.add_argument("--mode", choices=["direct", "full"], default="direct")
    ap.add_argument("--distance", type=int, default=31)
    args = ap.parse_args()

    t0 = time.perf_counter()
    images = corpus(args.n)
    bank_imgs, innocent_imgs = images[0::2], images[1::2]
    originals = [hash_pil(im) for im in bank_imgs]
    bank = HashBank("eval")
    for i, h in enumerate(originals):
        if h.usable:
            bank.add_listings(
                [SourceListing(h.value, "src-a", f"a{i}"), SourceListing(h.value, "src-b", f"b{i}")]
            )
    ck, sa, sb = SigningKey(b"\x01" * 32), SigningKey(b"\x02" * 32), SigningKey(b"\x03" * 32)
    release = Custodian(b"\x04" * 32, ck).publish_epoch(1, bank.entries())
    manifest = release.manifest.cosigned("src-a", sa).cosigned("src-b", sb)
    trust = ManifestTrust(ck.public_key(), {"src-a": sa.public_key(), "src-b": sb.public_key()})
    matcher = PlatformMatcher(
        manifest,
        release.tag_table,
        trust=trust,
        policy=MatchPolicy(max_distance=args.distance, max_bundles_per_window=10**9),
    )
    params = manifest.params
    account = AccountMatchingKey.generate()
    print(
        f"corpus {len(images)} images, bank {len(release.entries)} entries "
        f"(built in {time.perf_counter() - t0:.1f} s), mode {args.mode}"
    )

    def send(data: bytes, image_id: str) -> None:
        if args.mode == "full":
            pending = prepare_image_vouchers(data, manifest, trust, account, b"", NOW)
            bundle = finalize_image_vouchers(
                pending, release.evaluator.evaluate_batch(pending.evaluation_request)
            )
        else:
            hashes = [h if h.usable else None for h in hash_image_bytes(data)]
            outs = [
                None
                if h is None
                else [release.evaluator.evaluate_known_input(k) for k in lsh_keys(h, params)]
                for h in hashes
            ]
            bundle = seal_image_vouchers(hashes, outs, params, account, b"", NOW)
        matcher.process_bundle("eval", image_id, bundle, NOW)

    rows = []
    for name, transform in TRANSFORMS.items():
        plain = private = 0
        for i, (img, orig) in enumerate(zip(bank_imgs, originals, strict=True)):
            if not orig.usable:
                continue
            data = transform(img)
            usable = [h for h in hash_image_bytes(data) if h.usable]
            dist = min((h.distance(orig) for h in usable), default=999)
            plain_hit = dist <= args.distance
            send(data, f"{name}/{i}")
            obs = matcher.observations[-1]
            private_hit = obs.verified and obs.entry_id == bank.entry_id_for(orig.value)
            plain += plain_hit
            private += private_hit and plain_hit
        rows.append((name, plain, private))

    n_before = len(matcher.observations)
    for i, img in enumerate(innocent_imgs):
        for name in ("jpeg_q70", "resize_50", "border"):
            send(TRANSFORMS[name](img), f"innocent/{name}/{i}")
    innocent = matcher.observations[n_before:]

    total_plain = sum(r[1] for r in rows)
    total_private = sum(r[2] for r in rows)
    pairs = sum(o.usable for o in originals)
    print(f"\n{'transform':<12} {'pairs':>6} {'plain':>9} {'private':>8} {'ratio':>7}")
    for name, plain, private in rows:
        ratio = private / plain if plain else float("nan")
        print(f"{name:<12} {pairs:>6} {plain:>9} {private:>8} {ratio:>7.3f}")
    print(
        f"{'ALL':<12} {pairs * len(rows):>6} {total_plain:>9} {total_private:>8} "
        f"{total_private / max(total_plain, 1):>7.3f}   (target >= 0.99)"
    )
    n_inn = len(innocent)
    stray = sum(o.key_hits for o in innocent)
    print(f"\ninnocent bundles: {n_inn}")
    print(
        f"  stray key hits per innocent image: {stray / n_inn:.2e} "
        f"(images with any hit: {sum(o.key_hits > 0 for o in innocent)})"
    )
    print(
        "  payloads opened per innocent image: "
        f"{sum(o.payload_opened for o in innocent) / n_inn:.2e}"
    )
    print(f"  verified (false) matches: {sum(o.verified for o in innocent)}")
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

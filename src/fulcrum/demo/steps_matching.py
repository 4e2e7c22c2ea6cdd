"""Demo: private matching of known images (benign generated pictures stand in for a bank).

Two sources list the same four generated pictures; the custodian admits them (two independent
sources each), publishes epoch 1 with account threshold t = 3 (the demo's setting; the default
is 5). Mallory sends edited copies (JPEG re-encode, resize, brightness, caption, border) of bank
pictures, and Nina sends unrelated pictures. Only Mallory's matched images reach the review
queue, and only once the threshold is passed; nothing is recorded about Nina's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from fulcrum.client.matching_layer import pin_trust
from fulcrum.demo.runner import DemoWorld, demo_image
from fulcrum.matching import SourceListing
from fulcrum.matching.benign import add_caption, encode_jpeg, encode_png
from fulcrum.matching.pdq import hash_pil
from fulcrum.server.routes.custodian import custodian_state
from fulcrum.store.matching import MatchLedger

DEMO_THRESHOLD = 3


def _bank_picture(seed: int, size: tuple[int, int] = (384, 320)) -> Image.Image:
    """A benign generated picture: colour gradients under random shapes."""
    rng = np.random.default_rng(1000 + seed)
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
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)
    return img


Edit = tuple[str, Callable[[Image.Image], bytes], str]

EDITS: list[Edit] = [
    ("jpeg", lambda im: encode_jpeg(im, 60), ".jpg"),
    ("resize", lambda im: encode_jpeg(im.resize((im.width // 2, im.height // 2)), 85), ".jpg"),
    ("brightness", lambda im: encode_jpeg(ImageEnhance.Brightness(im).enhance(1.2), 85), ".jpg"),
    (
        "caption+border",
        lambda im: encode_png(ImageOps.expand(add_caption(im), 30, (250,) * 3)),
        ".png",
    ),
]


def _ledger_counts(world: DemoWorld, account: str) -> tuple[int, int]:
    with world.server.app.state.fulcrum.db.read() as session:
        ledger = MatchLedger(session)
        return len(ledger.for_account(account, 0)), len(ledger.released(account))


async def step_private_matching(world: DemoWorld) -> None:
    custodian = custodian_state(world.server.app)
    pictures = [_bank_picture(i) for i in range(len(EDITS))]
    for source in ("hotline-a", "hotline-b"):
        listings = [
            SourceListing(hash_pil(p).value, source, f"{source}-{i}")
            for i, p in enumerate(pictures)
        ]
        custodian.import_listings("demo-bank", listings)
    single = custodian.import_listings(
        "demo-bank", [SourceListing(hash_pil(_bank_picture(9)).value, "hotline-c", "c-1")]
    )
    world.check("a hash listed by one source only is refused", len(single.single_source) == 1)
    manifest = custodian.publish(1, account_threshold=DEMO_THRESHOLD)
    world.check("the bank admits the four doubly-listed pictures", manifest.entry_count == 4)
    mallory = await world.user("mallory")
    nina = await world.user("nina")
    receiver = await world.user("oscar")
    for client in (mallory, nina, receiver):
        pin_trust(client, custodian.trust())
    sent: list[str] = []
    for i, (name, edit, ext) in enumerate(EDITS):
        path = world.out / f"edited-{name}{ext}"
        path.write_bytes(edit(pictures[i]))
        receipt = await mallory.send_text("oscar", f"pic {i}", [path])
        sent.append(f"{receipt.msg_id}:0")
        if i == DEMO_THRESHOLD - 2:
            matched, opened = _ledger_counts(world, "mallory")
            world.check(
                f"below the threshold ({matched} matches < t={DEMO_THRESHOLD}) nothing is released",
                matched == DEMO_THRESHOLD - 1 and opened == 0,
            )
    for i in range(3):
        path = world.out / f"holiday-{i}.png"
        path.write_bytes(demo_image(40 + i))
        await nina.send_text("oscar", "holiday pictures", [path])
    got = await world.received("oscar")
    world.check("oscar receives every message and picture", len(got) == len(EDITS) + 3)
    with world.server.app.state.fulcrum.db.read() as session:
        released = MatchLedger(session).released()
    world.check(
        "the review queue holds exactly mallory's edited bank pictures",
        sorted(r.image_id for r in released) == sorted(sent),
    )
    world.check(
        "media-match review cases were opened for them (one at the threshold, one per later match)",
        all(r.case_id is not None for r in released)
        and len({r.case_id for r in released}) == len(EDITS) - DEMO_THRESHOLD + 1,
    )
    world.check("nina's unrelated pictures reveal nothing", _ledger_counts(world, "nina") == (0, 0))
    world.facts["matching_released"] = len(released)
    world.facts["matching_unrelated_opened"] = _ledger_counts(world, "nina")[0]
    world.facts["matching_threshold"] = DEMO_THRESHOLD

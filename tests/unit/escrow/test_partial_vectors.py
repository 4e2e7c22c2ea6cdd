"""Saved partials still verify and combine, and the implementation reproduces them byte for byte.

``tests/vectors/escrow-partial-v1.json`` was written by the first implementation of
``escrow/partial.py`` (seeded DKG and proof nonces). Evidence bundles carry partials in this wire
form and ``fulcrum evidence verify`` re-checks them, so a faster implementation must produce and
accept exactly the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fulcrum.encoding import b64d
from fulcrum.escrow import (
    DecryptionItem,
    EpochKeyBundle,
    EscrowContext,
    TrusteePartial,
    TrusteeShare,
    combine_partials,
    issue_partials,
    parse_escrow_field,
    verify_partial,
)
from fulcrum.hazmat.ristretto import Scalar

from .support import seeded_rng

pytestmark = pytest.mark.unit

DATA = json.loads(
    (Path(__file__).parents[2] / "vectors" / "escrow-partial-v1.json").read_text("utf-8")
)
BUNDLE = EpochKeyBundle.from_bytes(b64d(DATA["bundle"]))
REQ = b64d(DATA["request_id"])
ITEMS = [
    DecryptionItem(parse_escrow_field(b64d(i["field"])), EscrowContext.from_bytes(b64d(i["ctx"])))
    for i in DATA["items"]
]
KEYS = [b64d(k) for k in DATA["content_keys"]]
SAVED = {int(j): b64d(p) for j, p in DATA["partials"].items()}


@pytest.mark.parametrize("index", sorted(SAVED))
def test_issue_partials_reproduces_saved_bytes(index: int) -> None:
    secret = Scalar.from_bytes(b64d(DATA["shares"][str(index)]))
    share = TrusteeShare(BUNDLE.epoch, index, secret, BUNDLE.verification_key(index))
    rng = seeded_rng(b64d(DATA["nonce_seeds"][str(index)]))
    partial = issue_partials(share, ITEMS, REQ, BUNDLE.group_key, rng=rng)
    assert partial.to_bytes() == SAVED[index]


def test_saved_partials_verify_and_combine() -> None:
    partials = [TrusteePartial.from_bytes(raw) for raw in SAVED.values()]
    assert all(verify_partial(p, ITEMS, BUNDLE, REQ) for p in partials)
    assert list(combine_partials(ITEMS, partials, BUNDLE, REQ)) == KEYS


def test_saved_partial_with_one_flipped_byte_is_refused() -> None:
    raw = bytearray(SAVED[3])
    raw[-40] ^= 1  # inside the last item's D: either not a point or the wrong point
    try:
        partial = TrusteePartial.from_bytes(bytes(raw))
    except ValueError:
        return
    assert not verify_partial(partial, ITEMS, BUNDLE, REQ)

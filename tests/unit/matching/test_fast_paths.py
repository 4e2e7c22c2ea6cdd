"""The platform's fast paths agree with the plain ones: vectorised tag lookup, in-place bundle
parsing."""

from __future__ import annotations

import numpy as np
import pytest

from fulcrum.matching import MatchingParams, TableEntry, TagTable, VoucherBundle
from fulcrum.matching.errors import VoucherFormatError
from fulcrum.matching.voucher import dummy_variant
from fulcrum.matching.wire import parse_bundle_views

pytestmark = pytest.mark.unit


def _table(tags: np.ndarray) -> TagTable:
    n = len(tags)
    return TagTable(
        1,
        [TableEntry("e", bytes(32))],
        tags,
        np.zeros(n, np.uint32),
        np.zeros(n, np.uint16),
        np.zeros((n, 32), np.uint8),
    )


def test_lookup_array_finds_every_equal_tag() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        table = _table(rng.integers(0, 20, int(rng.integers(0, 50))).astype(np.uint64))
        q = rng.integers(0, 25, int(rng.integers(1, 30))).astype(np.uint64)
        query, rows = table.lookup_array(q)
        expected = [
            (i, r) for i in range(len(q)) for r in range(len(table.tags)) if table.tags[r] == q[i]
        ]
        assert sorted(zip(query.tolist(), rows.tolist(), strict=True)) == expected
        plain = table.lookup([int(x).to_bytes(8, "big") for x in q])
        assert [(i, r) for i, rs in enumerate(plain) for r in rs] == expected


def test_bundle_views_match_the_parsed_bundle() -> None:
    params = MatchingParams(7, bytes(32), m=16, review_capacity=32)
    bundle = VoucherBundle(7, (dummy_variant(params), dummy_variant(params)))
    data = bundle.to_bytes()
    views = parse_bundle_views(data, params)
    assert len(views) == 2
    for view, variant in zip(views, bundle.variants, strict=True):
        assert view.nonce == variant.nonce and view.payload == variant.payload
        assert [int(t).to_bytes(8, "big") for t in view.tags] == [v.tag for v in variant.vouchers]
        assert [view.box(j) for j in range(16)] == [v.box for v in variant.vouchers]
    for bad in (data[:-1], data + b"\0", b"FMVB", data[:4] + b"\x02" + data[5:]):
        with pytest.raises(VoucherFormatError):
            parse_bundle_views(bad, params)

"""A request of many items: one-pass checks, attribution inside the batch, device-list checks."""

from __future__ import annotations

import dataclasses

import pytest

from fulcrum.access import RequestRefused, answer_request, open_request
from fulcrum.access.request import RequestItem
from fulcrum.escrow import BadPartialError
from fulcrum.hazmat.ristretto import base_mul, random_scalar

from .support import BUNDLE, SHARES, TRUST, message
from .test_request import NOW, Y, approved_world

pytestmark = pytest.mark.unit

COUNT = 60


def test_bad_partial_deep_in_a_large_request_is_attributed_in_both_modes() -> None:
    pairs = [message(i, recipients=("bob", "carol")) for i in range(COUNT)]
    items, keys = [p[0] for p in pairs], [p[1] for p in pairs]
    log, opening, _, request, index = approved_world(items)
    logged = log.logged(index)
    parts = [
        answer_request(
            request, opening, logged, TRUST, SHARES[j], Y, log_entries=log.entries, now=NOW
        )
        for j in (2, 3, 5)
    ]
    assert open_request(request, parts, BUNDLE, logged.binding) == tuple(keys)
    ds = list(parts[1].partials)
    ds[COUNT // 2] = base_mul(random_scalar())
    bad = dataclasses.replace(parts[1], partials=tuple(ds))
    for optimistic in (False, True):
        with pytest.raises(BadPartialError) as err:
            open_request(request, [parts[0], bad, parts[2]], BUNDLE, logged.binding,
                         optimistic=optimistic)  # fmt: skip
        assert err.value.trustee_indices == (3,)


def test_one_out_of_scope_item_among_many_is_named() -> None:
    items = [message(i)[0] for i in range(COUNT)]
    items[41] = message(41, sender="carol", recipients=("dave",))[0]
    log, opening, _, request, index = approved_world(items)
    with pytest.raises(RequestRefused) as err:
        answer_request(request, opening, log.logged(index), TRUST, SHARES[1], Y,
                       log_entries=log.entries, now=NOW)  # fmt: skip
    assert err.value.reasons == ("item 41: no target is the sender or a recipient",)


def test_devices_match_on_sorted_and_unsorted_lists() -> None:
    item, _ = message(1, recipients=("bob", "carol", "alice"))
    assert item.devices_match()
    assert item.devices_match(item.devices_json())
    # Built directly, out of order: the general hash (which sorts) still accepts the same set.
    unsorted = RequestItem(item.field, item.ctx, tuple(reversed(item.recipient_devices)))
    assert unsorted.devices_match()
    for devices in (
        item.recipient_devices[:-1],  # one device left out
        (*item.recipient_devices, ("bob", "bob-phone")),  # a duplicate
        (*item.recipient_devices[:-1], ("carol", "")),  # an empty device id
        (),
    ):
        assert not dataclasses.replace(item, recipient_devices=devices).devices_match()

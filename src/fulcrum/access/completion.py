"""Combining trustee partials into content keys, and the ``AccessCompleted`` entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fulcrum.access.request import DecryptionRequest
from fulcrum.escrow import EpochKeyBundle, TrusteePartial, combine_partials
from fulcrum.translog import AccessCompleted


def open_request(
    request: DecryptionRequest,
    partials: Sequence[TrusteePartial],
    bundle: EpochKeyBundle,
    binding: bytes,
) -> tuple[bytes, ...]:
    """K_m of every item, in order. ``BadPartialError`` names each trustee whose proof fails;
    ``InsufficientPartialsError`` when fewer than t trustees answered."""
    return combine_partials(request.escrow_items(), partials, bundle, binding)


def access_completed_entry(
    request: DecryptionRequest,
    partials: Sequence[TrusteePartial],
    trustee_ids: Mapping[int, str],
    messages_decrypted: int,
    time: int,
) -> AccessCompleted:
    """Counts only: which trustees' partials were combined and how many bodies were read."""
    return AccessCompleted(
        time=time,
        warrant_id=request.warrant_id,
        request_id=request.request_id,
        trustees=tuple(sorted(trustee_ids[p.trustee_index] for p in partials)),
        messages_decrypted=messages_decrypted,
    )

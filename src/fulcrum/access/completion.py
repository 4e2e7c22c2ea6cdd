"""Combining trustee partials into content keys, and the ``AccessCompleted`` entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fulcrum.access.request import DecryptionRequest
from fulcrum.escrow import (
    EpochKeyBundle,
    EscrowError,
    EscrowOpenError,
    TrusteePartial,
    combine_partials,
    open_items,
)
from fulcrum.escrow.partial import combine_shared_points
from fulcrum.translog import AccessCompleted


def open_request(
    request: DecryptionRequest,
    partials: Sequence[TrusteePartial],
    bundle: EpochKeyBundle,
    binding: bytes,
    *,
    optimistic: bool = False,
) -> tuple[bytes, ...]:
    """K_m of every item, in order. ``BadPartialError`` names each trustee whose proof fails;
    ``InsufficientPartialsError`` when fewer than t trustees answered.

    ``optimistic=True`` combines first and checks the DLEQ proofs only if an item does not open.
    This is safe for correctness: w = HKDF(S) and W is authenticated, so a wrong S does not open
    (and the body is authenticated under K_m as well). Attribution is unchanged, because any
    failure falls back to full verification. The evidence verifier re-checks every proof offline.
    """
    items = request.escrow_items()
    if optimistic and _plausible(partials, bundle, binding, len(items)):
        shared = combine_shared_points(partials, bundle.threshold, len(items))
        try:
            return open_items(items, shared)
        except (EscrowOpenError, EscrowError):
            pass  # some partial is wrong: verify everything and name the trustee
    return combine_partials(items, partials, bundle, binding)


def _plausible(
    partials: Sequence[TrusteePartial], bundle: EpochKeyBundle, binding: bytes, count: int
) -> bool:
    indices = {p.trustee_index for p in partials}
    return (
        len(indices) == len(partials) >= bundle.threshold
        and all(1 <= i <= bundle.n for i in indices)
        and all(
            p.request_id == binding and p.epoch == bundle.epoch and len(p.partials) == count
            for p in partials
        )
    )


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

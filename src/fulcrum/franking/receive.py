"""Recipient-side franking check, run on every decrypted message before it is shown.

A message that fails is not displayed ("could not be verified") but its bundle is kept for the
report window, so a sender cannot send something its recipient is unable to report. A ``prev``
that does not equal the last commitment seen from that sender device is a *gap*: flagged, never a
reason to drop the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from fulcrum.franking.commitment import AttachmentOpening, attachments_match, commitment_matches
from fulcrum.franking.envelope import ServerEnvelope
from fulcrum.franking.meta import FrankingMeta
from fulcrum.hazmat.symmetric import constant_time_equal, sha256

NOT_VERIFIED_NOTICE = "This message could not be verified and is not shown."
GAP_NOTICE = "Some earlier messages from this sender did not arrive."


class ReceiveFailure(Enum):
    BAD_COMMITMENT = "bad_commitment"
    META_ENV_MISMATCH = "meta_env_mismatch"
    ATTACHMENT_MISMATCH = "attachment_mismatch"


@dataclass(frozen=True)
class ReceiveVerdict:
    """What the client does with a message.

    ``next_prev`` is what the caller stores as the expected ``prev`` for this sender device's next
    message: the new commitment when the message verified, otherwise the old value.
    """

    failure: ReceiveFailure | None
    gap: bool
    next_prev: bytes

    @property
    def displayable(self) -> bool:
        return self.failure is None

    @property
    def notice(self) -> str | None:
        if self.failure is not None:
            return NOT_VERIFIED_NOTICE
        return GAP_NOTICE if self.gap else None


def meta_matches_env(meta: FrankingMeta, env: ServerEnvelope) -> bool:
    """Sender, sender device, conversation and message id agree (constant-time, no early exit)."""
    ok = constant_time_equal(meta.sender.encode(), env.sender.encode())
    ok &= constant_time_equal(meta.sender_device.encode(), env.sender_device.encode())
    ok &= constant_time_equal(meta.conv.encode(), env.conv.encode())
    ok &= constant_time_equal(meta.msg_id, env.msg_id)
    return ok


def verify_received(
    body: bytes,
    meta: FrankingMeta,
    k_f: bytes,
    commitment: bytes,
    env: ServerEnvelope,
    expected_prev: bytes,
    *,
    attachments: Sequence[AttachmentOpening] = (),
    body_ciphertext: bytes | None = None,
) -> ReceiveVerdict:
    """Check one received message.

    ``attachments`` are the attachments as actually fetched and decrypted, in ``meta`` order;
    ``body_ciphertext`` (optional) is checked against ``env.ct_sha256``.
    """
    failure: ReceiveFailure | None = None
    if not commitment_matches(k_f, meta, body, commitment):
        failure = ReceiveFailure.BAD_COMMITMENT
    elif not meta_matches_env(meta, env) or (
        body_ciphertext is not None
        and not constant_time_equal(sha256(body_ciphertext), env.ct_sha256)
    ):
        failure = ReceiveFailure.META_ENV_MISMATCH
    elif not attachments_match(meta.attachments, attachments):
        failure = ReceiveFailure.ATTACHMENT_MISMATCH
    if failure is not None:
        return ReceiveVerdict(failure=failure, gap=False, next_prev=expected_prev)
    gap = not constant_time_equal(meta.prev, expected_prev)
    return ReceiveVerdict(failure=None, gap=gap, next_prev=commitment)

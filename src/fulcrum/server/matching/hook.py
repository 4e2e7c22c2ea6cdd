"""The send hook: hand each image's voucher bundle to the matcher, then drop the vouchers so
they are neither stored with the message nor delivered. The sender's receipt is the same
whatever the vouchers revealed."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session

from fulcrum.encoding import EncodingError, b64d
from fulcrum.matching import ThresholdReached
from fulcrum.matching.errors import MatchingError, VoucherFloodError, VoucherFormatError
from fulcrum.server.hooks import BatchFallback, SendContext, SendRefused
from fulcrum.server.matching.link import CustodianUnavailable
from fulcrum.server.matching.service import PlatformMatching
from fulcrum.store.matching import MatchLedger
from fulcrum.wire.api import SendReceipt
from fulcrum.wire.matching import VOUCHERS_EXTENSION, VoucherSlot

log = logging.getLogger("fulcrum.matching")


def image_id(msg_id: str, attachment: int) -> str:
    return f"{msg_id}:{attachment}"


class VoucherHook:
    def __init__(self, matching: PlatformMatching) -> None:
        self.matching = matching

    def _slots(self, ctx: SendContext) -> list[VoucherSlot]:
        raw = ctx.envelope.extensions.get(VOUCHERS_EXTENSION)
        if raw is None:
            return []
        try:
            if not isinstance(raw, list):
                raise TypeError
            slots = [VoucherSlot.model_validate(x) for x in raw]
        except (TypeError, ValidationError) as exc:
            raise SendRefused("invalid_vouchers", "malformed vouchers extension", 422) from exc
        indices = [s.attachment for s in slots]
        if len(set(indices)) != len(indices) or any(
            i >= len(ctx.envelope.attachments) for i in indices
        ):
            raise SendRefused("invalid_vouchers", "vouchers name unknown attachments", 422)
        return slots

    def before_accept(self, ctx: SendContext) -> None:
        slots = self._slots(ctx)
        # The vouchers are for the platform only: keep them out of the stored message.
        ctx.envelope.extensions.pop(VOUCHERS_EXTENSION, None)
        if not slots:
            return
        now = ctx.server_ts // 1000
        account = ctx.sender.account
        try:
            self.matching.bundle_limit.take(account, now, len(slots))
        except VoucherFloodError as exc:
            self.matching.counters.refused_flood += 1
            raise SendRefused("voucher_flood", str(exc), 429) from exc
        for slot in slots:
            try:
                bundle = b64d(slot.bundle)
                result = self.matching.process(
                    ctx.session,
                    account,
                    image_id(ctx.envelope.msg_id, slot.attachment),
                    bundle,
                    now,
                )
            except (EncodingError, VoucherFormatError) as exc:
                raise SendRefused("invalid_vouchers", str(exc), 422) from exc
            except CustodianUnavailable:
                log.warning("matching skipped: custodian unavailable")
                continue
            except MatchingError as exc:
                raise SendRefused("invalid_vouchers", str(exc), 422) from exc
            if result is not None:
                release(ctx.session, result, now)
                self.matching.counters.released += len(result.items)

    def before_accept_batch(self, ctxs: Sequence[SendContext]) -> None:
        """A batch with vouchers runs envelope by envelope: the rate limit, the counters and the
        custodian are outside the transaction, and a replayed batch must not count them twice."""
        if any(VOUCHERS_EXTENSION in c.envelope.extensions for c in ctxs):
            raise BatchFallback("vouchers")

    def after_accept(self, ctx: SendContext, receipt: SendReceipt) -> SendReceipt:
        return receipt

    def after_accept_batch(
        self, _ctxs: Sequence[SendContext], receipts: Sequence[SendReceipt]
    ) -> list[SendReceipt]:
        return list(receipts)


def release(session: Session, result: ThresholdReached, now: int) -> str | None:
    """Record the released images and open one review case for them (if the review store is
    installed); returns the case id."""
    case_id = _open_case(session, result, now)
    ledger = MatchLedger(session)
    for item in result.items:
        ledger.mark_released(result.account, item.image_id, now, item.review_material, case_id)
    return case_id


def _open_case(session: Session, result: ThresholdReached, now: int) -> str | None:
    try:
        from fulcrum.franking import ReasonCode
        from fulcrum.review.case import Case, CaseKind, EvidenceRef
        from fulcrum.store.review import SqlCaseStore
    except ImportError:  # the review queue is not in this build: the match table is the queue
        return None
    case_id = "mm_" + secrets.token_urlsafe(12)
    case = Case(
        case_id=case_id,
        kind=CaseKind.MEDIA_MATCH,
        reason=ReasonCode.CHILD_SAFETY,
        involves_child=False,
        created_at=datetime.fromtimestamp(now, tz=UTC),
        subject_account=result.account,
        evidence=tuple(
            EvidenceRef("match", f"{result.account}/{i.image_id}") for i in result.items
        ),
    )
    try:
        with session.begin_nested():
            SqlCaseStore(session).add(case)
    except Exception:  # the review tables may not exist in this database yet
        log.warning("media-match case not queued (review store unavailable); see matching_matches")
        return None
    return case_id

"""The server side of minor protection: run the engine over a SQL store and act on its decisions.

``SafetyService.apply`` is the one place decisions are acted on: every decision gets an audit row,
SAFETY_NOTICE decisions become queue items of kind "notice" on the minor's devices, QUEUE_REVIEW
decisions open a rule-hit case in the review queue. A REFUSE decision is raised as
``SafetyRefused`` (a typed 403 carrying the explanation). The request's transaction then rolls
back, so the refused action changes nothing; the exception handler installed with the feature
re-applies the same event in a fresh transaction so the rule's own bookkeeping (counters, audit
record, notices) is kept.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio.from_thread
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from fulcrum.safety import (
    Action,
    Decision,
    SafetyEngine,
    SafetyEvent,
    SafetyPolicy,
    default_policy,
)
from fulcrum.server.errors import ApiError
from fulcrum.server.push import PushHub
from fulcrum.store.safety import SqlSafetyStore, enqueue_notice
from fulcrum.store.safety_cache import AccountCache

LOG = logging.getLogger("fulcrum.server.safety")

NOTICE_TEXT = {
    "suspicious_adult": "Be careful: an adult you are chatting with was flagged by our safety "
    "rules. You can block or report them; you never have to reply.",
    "message_burst": "You are getting a lot of messages quickly from a new contact. You can mute, "
    "block or report them.",
    "late_night": "A new adult contact is messaging you late at night. You can block or report "
    "them, and talk to someone you trust.",
    "first_media": "A new contact sent you a photo or file for the first time. Only open it if you "
    "trust them; you can block or report them.",
}


def server_policy() -> SafetyPolicy:
    """The relay's policy: the engine defaults, so an account without a birth year is treated as
    a minor (design note 07, ``[age] unknown_age_treated_as = "minor"``). Clients ask for a birth
    year at sign-up; the relay's ``AccountCreate`` still accepts none for older clients, and those
    accounts get a minor's protections."""
    return default_policy()


class SafetyRefused(ApiError):
    """A rule refused the action: 403 ``safety_refused`` with the rule's explanation."""

    def __init__(
        self,
        decision: Decision,
        event: SafetyEvent,
        keep: Callable[[Session, int], object] | None = None,
    ) -> None:
        super().__init__(403, "safety_refused", decision.explanation)
        self.decision = decision
        self.event = event
        self._keep = keep

    def keep_after_rollback(self, session: Session, now_ms: int) -> None:
        """Re-apply the refused event's bookkeeping (the rule's counters, audit record, notices)
        in ``session`` after the refused envelope's own rows were rolled back; the refused action
        itself is not performed. Batches call this in their transaction (``sending.accept_batch``),
        single sends in the exception handler."""
        if self._keep is not None:
            self._keep(session, now_ms)


@dataclass
class Applied:
    decisions: list[Decision]
    pushes: list[tuple[str, int]] = field(default_factory=list)

    @property
    def refusal(self) -> Decision | None:
        return next((d for d in self.decisions if d.action is Action.REFUSE), None)


class SafetyService:
    def __init__(self, policy: SafetyPolicy | None = None) -> None:
        self.policy = policy or server_policy()
        self.review_cases = 0  # rule-hit cases opened (for tests and logs)
        # account records shared by this process's requests (None: read them every time)
        self.accounts: AccountCache | None = AccountCache()
        self.hub: PushHub | None = None  # set by ``install``: notices are pushed after commit

    def store(self, session: Session) -> SqlSafetyStore:
        return SqlSafetyStore(session, self.accounts)

    def engine(self, session: Session, prefetch: Iterable[str] = ()) -> SafetyEngine:
        store = self.store(session)
        store.prefetch(prefetch)
        return SafetyEngine(store, self.policy)

    def apply(
        self, session: Session, event: SafetyEvent, now_ms: int, engine: SafetyEngine | None = None
    ) -> Applied:
        engine = engine or self.engine(session)
        decisions = engine.record(event)
        return self.act(session, engine, decisions, now_ms)

    def act(
        self, session: Session, engine: SafetyEngine, decisions: list[Decision], now_ms: int
    ) -> Applied:
        applied = Applied(decisions)
        if not decisions:
            return applied
        try:
            return self._act(session, engine, applied, now_ms)
        finally:
            self.push_after_commit(session, applied.pushes)

    def push_after_commit(self, session: Session, pushes: list[tuple[str, int]]) -> None:
        """Tell connected devices about queued notices once ``session`` commits (never before:
        a device fetching early would miss them; a rollback pushes nothing). Runs on the worker
        thread the request is served on; elsewhere (benchmarks, scripts) the notices simply wait
        in the queue for the next fetch."""
        hub = self.hub
        if hub is None or not pushes:
            return
        queued = list(pushes)

        def publish(_session: Session) -> None:
            try:
                for device_id, seq in queued:
                    anyio.from_thread.run(hub.publish, device_id, {"type": "queued", "seq": seq})
            except RuntimeError:  # not on an event loop's worker thread
                LOG.debug("safety notices queued without a push (%d devices)", len(queued))

        sa_event.listen(session, "after_commit", publish, once=True)

    def _act(
        self, session: Session, engine: SafetyEngine, applied: Applied, now_ms: int
    ) -> Applied:
        decisions = applied.decisions
        store = engine.store
        assert isinstance(store, SqlSafetyStore)
        store.record_decisions(decisions)
        for d in decisions:
            if d.action is Action.SAFETY_NOTICE and d.notify is not None and d.notice is not None:
                text = NOTICE_TEXT.get(d.notice.value, "A safety notice from Fulcrum.")
                applied.pushes += enqueue_notice(session, d.notify, d.notice.value, text, now_ms)
            elif d.action is Action.QUEUE_REVIEW and d.subject is not None:
                self._queue_review(session, d, now_ms)
        return applied

    def _queue_review(self, session: Session, d: Decision, now_ms: int) -> None:
        """Open a rule-hit case in the review queue (child-safety priority)."""
        try:
            from fulcrum.franking import ReasonCode
            from fulcrum.review.case import Case, CaseKind, EvidenceRef
            from fulcrum.store.review import SqlCaseStore
        except ImportError:  # no review queue in this build: the audit row is the record
            LOG.warning("review queue unavailable; decision %s recorded only", d.rule_id.value)
            return
        case = Case(
            case_id=secrets.token_urlsafe(12),
            kind=CaseKind.RULE_HIT,
            reason=ReasonCode.CHILD_SAFETY,
            involves_child=True,
            created_at=datetime.fromtimestamp(now_ms / 1000, tz=UTC),
            subject_account=d.subject or "",
            evidence=(EvidenceRef("rule_decision", f"{d.rule_id.value}@{d.at:.3f}"),),
        )
        with session.begin_nested():
            SqlCaseStore(session).add(case)
        self.review_cases += 1

    def refuse_if_needed(self, applied: Applied, event: SafetyEvent) -> None:
        refusal = applied.refusal
        if refusal is not None:
            raise SafetyRefused(
                refusal, event, keep=lambda session, ts: self.apply(session, event, ts)
            )

"""A small world builder for the safety engine tests. Times are POSIX seconds."""

from __future__ import annotations

from datetime import UTC, datetime

from fulcrum.safety import (
    AccountCreated,
    Action,
    ContactAccepted,
    ContactRequested,
    Decision,
    MessageSent,
    SafetyEngine,
    SafetyPolicy,
)

T0 = datetime(2025, 6, 2, 12, 0, tzinfo=UTC).timestamp()  # a Monday, 12:00 UTC
MIN = 60.0
HOUR = 3600.0
DAY = 86400.0
ADULT_YEAR = 1985
MINOR_YEAR = 2008  # 17 in 2025: minor, not young
YOUNG_YEAR = 2011  # 14 in 2025: young minor


class World:
    def __init__(self, policy: SafetyPolicy | None = None) -> None:
        self.engine = SafetyEngine(policy=policy)
        self.now = T0

    def account(
        self,
        name: str,
        birth_year: int | None,
        *,
        country: str | None = "GB",
        age_days: float = 365,
        offset: int | None = None,
    ) -> str:
        self.engine.record(
            AccountCreated(name, self.now - age_days * DAY, birth_year, country, offset)
        )
        return name

    def adult(self, name: str, **kw: object) -> str:
        return self.account(name, ADULT_YEAR, **kw)  # type: ignore[arg-type]

    def minor(self, name: str, *, young: bool = False, **kw: object) -> str:
        return self.account(name, YOUNG_YEAR if young else MINOR_YEAR, **kw)  # type: ignore[arg-type]

    def connect(self, requester: str, accepter: str, at: float | None = None) -> None:
        at = self.now if at is None else at
        assert not refused(self.engine.record(ContactRequested(requester, accepter, at)))
        self.engine.record(ContactAccepted(accepter, requester, at))

    def send(self, sender: str, to: str, at: float | None = None, **kw: object) -> list[Decision]:
        at = self.now if at is None else at
        return self.engine.check_message(MessageSent(sender, (to,), f"{sender}>{to}", at, **kw))  # type: ignore[arg-type]

    def request(self, sender: str, to: str, at: float | None = None) -> list[Decision]:
        at = self.now if at is None else at
        return self.engine.record(ContactRequested(sender, to, at))


def refused(decisions: list[Decision]) -> bool:
    return any(d.action is Action.REFUSE for d in decisions)


def of(decisions: list[Decision], action: Action, rule: str | None = None) -> list[Decision]:
    return [
        d for d in decisions if d.action is action and (rule is None or d.rule_id.value == rule)
    ]

"""Notification at notify-after unless a logged judge-signed extension; hard cap of one year."""

from __future__ import annotations

import pytest

from fulcrum.access import (
    LifecycleError,
    NotificationError,
    Stage,
    WarrantCase,
    due_notifications,
    judge_keys_from_log,
    notify_at,
    sign_extension,
    verify_opening,
)
from fulcrum.hazmat.signing import SigningKey
from fulcrum.translog import LogEntry

from .support import DAY, JUDGE, JUDGE_KEY, T0, make_warrant, opening_for

pytestmark = pytest.mark.unit

W = make_warrant()
END = W.window_end
KEYS = judge_keys_from_log([JUDGE_KEY.to_log_entry(T0)])


def ext(until: int, key: SigningKey = JUDGE, issued: int = END + DAY):  # type: ignore[no-untyped-def]
    return sign_extension(W, delayed_until=until, reason="ongoing investigation",
                          judge_key_id="judge-1", issued_at=issued, key=key)  # fmt: skip


def test_default_notification_90_days_after_window() -> None:
    assert notify_at(W, [], [], KEYS) == END + 90 * DAY
    assert due_notifications([W], [], END + 90 * DAY - 1, log_entries=[], judge_keys=KEYS) == []
    (due,) = due_notifications([W], [], END + 90 * DAY, log_entries=[], judge_keys=KEYS)
    assert due.targets == W.targets and due.due_at == END + 90 * DAY
    assert due_notifications([W], [], END + 91 * DAY, log_entries=[], judge_keys=KEYS,
                             unsealed=[W.warrant_id]) == []  # fmt: skip


def test_logged_extension_delays_unlogged_or_forged_does_not() -> None:
    e = ext(END + 200 * DAY)
    logged: list[LogEntry] = [e.to_log_entry(END + 2 * DAY)]
    assert notify_at(W, [e], logged, KEYS) == END + 200 * DAY
    assert notify_at(W, [e], [], KEYS) == END + 90 * DAY  # not in the log: ignored
    forged = ext(END + 200 * DAY, key=SigningKey(bytes(32)))
    assert notify_at(W, [forged], [forged.to_log_entry(END + 2 * DAY)], KEYS) == END + 90 * DAY
    late = e.to_log_entry(END + 95 * DAY)  # logged after notification fell due
    assert notify_at(W, [e], [late], KEYS) == END + 90 * DAY


def test_extensions_chain_but_never_past_one_year() -> None:
    a, b = ext(END + 200 * DAY), ext(END + 365 * DAY, issued=END + 150 * DAY)
    log = [a.to_log_entry(END + 2 * DAY), b.to_log_entry(END + 150 * DAY)]
    assert notify_at(W, [a, b], log, KEYS) == END + 365 * DAY
    with pytest.raises(NotificationError):
        ext(END + 366 * DAY)
    with pytest.raises(NotificationError):
        ext(END + 10 * DAY)  # not later than notify-after


def test_lifecycle_order_and_unsealing() -> None:
    opening = opening_for(W)
    case = WarrantCase(W.warrant_id, frozenset({"t1", "t2", "t3"}), 2)
    with pytest.raises(LifecycleError):
        case.unseal(opening, T0)
    case, reg = case.register(opening, T0)
    with pytest.raises(LifecycleError):
        case.register(opening, T0)
    case, delayed = case.delay(ext(END + 200 * DAY), END)
    assert delayed.delayed_until == END + 200 * DAY
    case, unsealed = case.unseal(opening, END + 200 * DAY)
    assert case.stage is Stage.UNSEALED
    assert verify_opening(opening, reg, unsealed)

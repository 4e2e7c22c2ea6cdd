"""Abuse reports and their verification on the platform.

A report carries the chosen message(s) plus context (by default the last 5 messages of the
conversation in both directions), each with its franking bundle and, where the message had
attachments, the attachments as the reporter decrypted them. Submitted in conversation order.

Each message gets exactly one verdict, the first failing check in this order: duplicate, tag,
commitment, meta/env binding, attachments, reporter-is-recipient, then the ``prev`` chain and
``server_ts`` order across the authentic messages. The report is *verified* only if every
submitted message is ``valid``; only a verified report may be attested.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from fulcrum.encoding import canonical_json
from fulcrum.franking._fields import (
    MSG_ID_BYTES,
    check_bool,
    check_id,
    dec,
    enc,
    exact_keys,
    require_aware,
)
from fulcrum.franking.bundle import FrankingBundle, parse_canonical
from fulcrum.franking.commitment import AttachmentOpening, attachments_match, commitment_matches
from fulcrum.franking.errors import FrankingFormatError, ReportError
from fulcrum.franking.meta import GENESIS_PREV
from fulcrum.franking.receive import meta_matches_env
from fulcrum.franking.tagkeys import TagCheck, TagKeyring, check_tag
from fulcrum.hazmat.symmetric import constant_time_equal

REPORT_VERSION = 1
DEFAULT_CONTEXT_MESSAGES = 5
MAX_REPORT_MESSAGES = 50
MAX_REPORT_BYTES = 64 << 20
_REPORT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_REPORT_KEYS = frozenset(
    {"v", "report_id", "reporter", "reason", "involves_child", "chosen", "messages"}
)
_OPENING_KEYS = frozenset({"k_att", "nonce", "ciphertext", "plaintext"})

GroupMembers = Mapping[tuple[str, int], Sequence[str]]


class ReasonCode(Enum):
    CHILD_SAFETY = "child_safety"
    TERRORISM = "terrorism"
    HARASSMENT = "harassment"
    SPAM = "spam"
    OTHER = "other"


class VerdictCode(Enum):
    VALID = "valid"
    BAD_TAG = "bad_tag"
    EXPIRED_KEY = "expired_key"
    BAD_COMMITMENT = "bad_commitment"
    META_ENV_MISMATCH = "meta_env_mismatch"
    BROKEN_PREV_CHAIN = "broken_prev_chain"
    ATTACHMENT_MISMATCH = "attachment_mismatch"
    DUPLICATE = "duplicate"
    REPORTER_NOT_RECIPIENT = "reporter_not_recipient"


@dataclass(frozen=True)
class ReportedMessage:
    bundle: FrankingBundle
    attachments: tuple[AttachmentOpening, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle.to_json(),
            "attachments": [
                {
                    "k_att": enc(a.k_att),
                    "nonce": enc(a.nonce),
                    "ciphertext": enc(a.ciphertext),
                    "plaintext": enc(a.plaintext),
                }
                for a in self.attachments
            ],
        }

    @classmethod
    def from_json(cls, obj: object) -> ReportedMessage:
        data = exact_keys(obj, "message", frozenset({"bundle", "attachments"}))
        atts = data["attachments"]
        if not isinstance(atts, list):
            raise FrankingFormatError("attachments must be a list")
        openings = []
        for item in atts:
            a = exact_keys(item, "attachment opening", _OPENING_KEYS)
            openings.append(
                AttachmentOpening(
                    k_att=dec("k_att", a["k_att"], 32),
                    nonce=dec("nonce", a["nonce"], 12),
                    ciphertext=dec("ciphertext", a["ciphertext"]),
                    plaintext=dec("plaintext", a["plaintext"]),
                )
            )
        return cls(FrankingBundle.from_json(data["bundle"]), tuple(openings))


@dataclass(frozen=True)
class AbuseReport:
    """What a reporter's device submits. ``messages`` are in conversation order and include the
    ``chosen`` ones (by message id) and the context."""

    report_id: str
    reporter_account: str
    reporter_device: str
    reason: ReasonCode
    involves_child: bool
    chosen: tuple[bytes, ...]
    messages: tuple[ReportedMessage, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.report_id, str) or not _REPORT_ID.match(self.report_id):
            raise ReportError("report_id must be 1-64 chars of [A-Za-z0-9_-]")
        check_id("reporter_account", self.reporter_account)
        check_id("reporter_device", self.reporter_device)
        if not isinstance(self.reason, ReasonCode):
            raise ReportError("reason must be a ReasonCode")
        check_bool("involves_child", self.involves_child)
        if not self.messages or len(self.messages) > MAX_REPORT_MESSAGES:
            raise ReportError(f"a report carries 1 to {MAX_REPORT_MESSAGES} messages")
        if not self.chosen or len(set(self.chosen)) != len(self.chosen):
            raise ReportError("a report chooses at least one message, each once")
        ids = {m.bundle.msg_id for m in self.messages}
        if any(len(c) != MSG_ID_BYTES or c not in ids for c in self.chosen):
            raise ReportError("every chosen message id must be among the submitted messages")
        if len({m.bundle.env.conv for m in self.messages}) != 1:
            raise ReportError("all messages of a report come from one conversation")

    def __repr__(self) -> str:
        return f"AbuseReport(report_id={self.report_id!r}, messages={len(self.messages)})"

    def to_json(self) -> dict[str, Any]:
        return {
            "v": REPORT_VERSION,
            "report_id": self.report_id,
            "reporter": {"account": self.reporter_account, "device": self.reporter_device},
            "reason": self.reason.value,
            "involves_child": self.involves_child,
            "chosen": [enc(c) for c in self.chosen],
            "messages": [m.to_json() for m in self.messages],
        }

    def encode(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, obj: object) -> AbuseReport:
        data = exact_keys(obj, "report", _REPORT_KEYS)
        if data["v"] != REPORT_VERSION or isinstance(data["v"], bool):
            raise FrankingFormatError("unsupported report version")
        reporter = exact_keys(data["reporter"], "reporter", frozenset({"account", "device"}))
        try:
            reason = ReasonCode(data["reason"])
        except ValueError as exc:
            raise FrankingFormatError("unknown reason code") from exc
        chosen, messages = data["chosen"], data["messages"]
        if not isinstance(chosen, list) or not isinstance(messages, list):
            raise FrankingFormatError("chosen and messages must be lists")
        if len(messages) > MAX_REPORT_MESSAGES:
            raise ReportError(f"a report carries at most {MAX_REPORT_MESSAGES} messages")
        return cls(
            report_id=data["report_id"],
            reporter_account=check_id("reporter account", reporter["account"]),
            reporter_device=check_id("reporter device", reporter["device"]),
            reason=reason,
            involves_child=check_bool("involves_child", data["involves_child"]),
            chosen=tuple(dec("chosen", c, MSG_ID_BYTES) for c in chosen),
            messages=tuple(ReportedMessage.from_json(m) for m in messages),
        )

    @classmethod
    def parse(cls, data: bytes) -> AbuseReport:
        """Strict parser: only the canonical encoding of a well-formed report is accepted."""
        return parse_canonical(data, cls.from_json, "report", MAX_REPORT_BYTES)


@dataclass(frozen=True)
class MessageVerdict:
    msg_id: bytes
    sender: str
    server_ts: int
    chosen: bool
    code: VerdictCode

    @property
    def authentic(self) -> bool:
        """Tag, commitment, binding and attachments all held (the chain may still be broken)."""
        return self.code in (VerdictCode.VALID, VerdictCode.BROKEN_PREV_CHAIN)


@dataclass(frozen=True)
class ReportVerdict:
    report_id: str
    items: tuple[MessageVerdict, ...]

    @property
    def verified(self) -> bool:
        return all(i.code is VerdictCode.VALID for i in self.items)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self.items:
            out[i.code.value] = out.get(i.code.value, 0) + 1
        return out


def _first_failure(
    msg: ReportedMessage,
    report: AbuseReport,
    keyring: TagKeyring,
    now: datetime,
    group_members: GroupMembers,
) -> VerdictCode | None:
    b = msg.bundle
    checked = check_tag(keyring, b.kid, b.tag, b.c, b.env, now)
    if checked is TagCheck.EXPIRED:
        return VerdictCode.EXPIRED_KEY
    if checked is not TagCheck.VALID:
        return VerdictCode.BAD_TAG
    if not commitment_matches(b.k_f, b.meta, b.body, b.c):
        return VerdictCode.BAD_COMMITMENT
    if not meta_matches_env(b.meta, b.env):
        return VerdictCode.META_ENV_MISMATCH
    if not attachments_match(b.meta.attachments, msg.attachments):
        return VerdictCode.ATTACHMENT_MISMATCH
    reporter = report.reporter_account
    is_sender = b.env.sender == reporter
    members = None
    if b.env.group is not None:
        members = group_members.get((b.env.group.group_id, b.env.group.membership_epoch))
    addressed = b.env.addresses(reporter, members)
    # The chosen messages must have been received by the reporter; the context may also hold
    # the reporter's own messages (the conversation in both directions).
    if b.msg_id in report.chosen:
        if is_sender or not addressed:
            return VerdictCode.REPORTER_NOT_RECIPIENT
    elif not (addressed or is_sender):
        return VerdictCode.REPORTER_NOT_RECIPIENT
    return None


def _check_chains(report: AbuseReport, codes: list[VerdictCode | None]) -> None:
    """Flag reordering and omission across the authentic messages, in submitted order.

    * ``server_ts`` must not go backwards;
    * within one sender-device chain each message's ``prev`` is the previous one's commitment;
    * anchoring: a chain's first submitted message must come before any non-first message
      (unless it is that chain's genesis), otherwise messages of that chain between the start of
      the submitted window and it could have been left out unnoticed.
    """
    last_commitment: dict[tuple[str, str], bytes] = {}
    last_ts = -1
    past_anchors = False
    for idx, msg in enumerate(report.messages):
        if codes[idx] is not None:
            continue
        b = msg.bundle
        chain = (b.env.sender, b.env.sender_device)
        previous = last_commitment.get(chain)
        broken = b.env.server_ts < last_ts
        if previous is None:
            broken |= past_anchors and not constant_time_equal(b.meta.prev, GENESIS_PREV)
        else:
            broken |= not constant_time_equal(b.meta.prev, previous)
            past_anchors = True
        if broken:
            codes[idx] = VerdictCode.BROKEN_PREV_CHAIN
        last_commitment[chain] = b.c
        last_ts = max(last_ts, b.env.server_ts)


def report_context(
    history: Sequence[FrankingBundle],
    chosen: Collection[bytes],
    context: int = DEFAULT_CONTEXT_MESSAGES,
) -> tuple[FrankingBundle, ...]:
    """Client side: the messages to submit with a report, in conversation order.

    ``history`` is the conversation's kept bundles in server order. Takes the ``context``
    messages before the earliest chosen one through the latest chosen one, then prepends, for each
    sender-device chain in that window, the chain's previous message (its anchor) where kept.
    """
    positions = [i for i, b in enumerate(history) if b.msg_id in chosen]
    if not positions:
        raise ReportError("none of the chosen messages is in the history")
    window = list(history[max(0, positions[0] - context) : positions[-1] + 1])
    by_commitment = {b.c: b for b in history}
    first_of_chain: dict[tuple[str, str], FrankingBundle] = {}
    for b in window:
        first_of_chain.setdefault((b.env.sender, b.env.sender_device), b)
    anchors = [
        by_commitment[b.meta.prev] for b in first_of_chain.values() if b.meta.prev in by_commitment
    ]
    ordered = sorted({id(b): b for b in anchors + window}.values(), key=lambda b: b.env.server_ts)
    return tuple(ordered)


def verify_report(
    report: AbuseReport,
    keyring: TagKeyring,
    now: datetime,
    *,
    already_reported: Collection[bytes] = frozenset(),
    group_members: GroupMembers | None = None,
) -> ReportVerdict:
    """Verify every message of ``report`` and return the per-message verdicts.

    ``already_reported``: message ids chosen in earlier reports (a chosen id found there is a
    duplicate). ``group_members``: the member list of each (group_id, membership_epoch) the
    platform recorded; it is checked against the envelope's ``members_hash``.
    """
    require_aware("now", now)
    members = group_members or {}
    seen: set[bytes] = set()
    codes: list[VerdictCode | None] = []
    for msg in report.messages:
        mid = msg.bundle.msg_id
        if mid in seen or (mid in report.chosen and mid in already_reported):
            codes.append(VerdictCode.DUPLICATE)
        else:
            codes.append(_first_failure(msg, report, keyring, now, members))
        seen.add(mid)

    _check_chains(report, codes)
    items = tuple(
        MessageVerdict(
            msg_id=m.bundle.msg_id,
            sender=m.bundle.env.sender,
            server_ts=m.bundle.env.server_ts,
            chosen=m.bundle.msg_id in report.chosen,
            code=code if code is not None else VerdictCode.VALID,
        )
        for m, code in zip(report.messages, codes, strict=True)
    )
    return ReportVerdict(report.report_id, items)

"""A separate trustee's decision on a warrant (``POST /approvals``).

Request (operator token)::  {"opening": <access.wire opening>}

The trustee reads the platform's log itself (``PlatformLog.snapshot``: the latest checkpoint under
the pinned log and witness keys, every entry of its tree), then runs ``fulcrum.access.decide``
with its own scope policy: judge signature under the judge keys registered in that log, the
warrant's match with its logged ``WarrantRegistered`` commitment, expiry, scope limits, special
categories, and the agency quotas computed from the log. It signs the canonical decision with its
identity key. Answer 200::

    {"trustee_id", "approved", "reasons": [[code, detail]...], "decision": <b64 canonical
     TrusteeDecision>, "signature": <b64 Ed25519 over DECISION_SIGNATURE_LABEL || decision>}

The platform checks the signature and appends ``decision.to_log_entry`` (a ``TrusteeApproval``,
denials included), exactly as for an in-process trustee.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fulcrum.access import AccessError, ScopePolicy, decide
from fulcrum.access.decision import DECISION_SIGNATURE_LABEL, sign_decision, verify_decision
from fulcrum.access.wire import opening_from_json
from fulcrum.encoding import b64e
from fulcrum.trustee.evidence import EvidenceError, PlatformLog

if TYPE_CHECKING:
    from fulcrum.trustee.keystore import TrusteeKeyStore

__all__ = ["DECISION_SIGNATURE_LABEL", "ApprovalFailure", "decide_remote", "sign_decision",
           "verify_decision"]  # fmt: skip


class ApprovalFailure(ValueError):
    """The approval request could not be decided: ``code`` says why (malformed, log_unverified)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def decide_remote(
    store: TrusteeKeyStore,
    log: PlatformLog,
    policy: ScopePolicy,
    body: Mapping[str, Any],
    now: int,
) -> dict[str, Any]:
    """Decide on the warrant in ``body`` from this trustee's own verified copy of the log."""
    try:
        opening = opening_from_json(body["opening"])
    except (KeyError, TypeError, AccessError) as exc:
        raise ApprovalFailure("malformed", f"malformed approval request: {exc}") from exc
    try:
        entries = log.snapshot()
    except EvidenceError as exc:
        raise ApprovalFailure("log_unverified", str(exc)) from exc
    decision = decide(opening, trustee_id=store.name, policy=policy, log_entries=entries, now=now)
    return {
        "trustee_id": store.name,
        "approved": decision.approved,
        "reasons": [[r.code, r.detail] for r in decision.reasons],
        "decision": b64e(decision.to_bytes()),
        "signature": b64e(sign_decision(decision, store.identity())),
    }

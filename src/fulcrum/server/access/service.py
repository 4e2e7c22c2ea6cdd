"""The warrant workflow on the server: every step calls ``fulcrum.access`` and logs its entry.

    judge key -> JudgeKeyRegistered            submit -> WarrantRegistered (sealed opening kept)
    approve   -> TrusteeApproval per trustee   (each trustee runs access.decide: in this process,
                                               or in its own when the council is remote)
    request   -> DecryptionRequested per epoch (retained messages in scope; Merkle root + count)
    checkpoint (witness-cosigned)              answer -> PartialsIssued per trustee
    complete  -> AccessCompleted               export -> EvidenceExported (see export.py)
    extend    -> NotificationDelayed           notify_due -> WarrantUnsealed + notice to targets

This module holds the intake and approval steps; ``decryption.py`` the requests, the trustees'
partials and their combination; ``ledger.py`` the warrant rows and log access both build on.
The trustees are the escrow feature's in-process ``TrusteeCouncil``: each decides on its own from
the log entries, and answers only a request whose entry is in a witness-cosigned checkpoint,
using its own key store. ``clock`` (unix seconds) is replaceable for tests.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from fulcrum.access import (
    AccessError,
    JudgeKey,
    SignedWarrant,
    WarrantOpening,
    decide,
    default_policy,
    judge_keys_from_log,
    verify_warrant,
)
from fulcrum.hazmat.signing import VerifyKey
from fulcrum.server.access.decryption import (
    LIMIT_NOTE,
    MAX_ITEMS_PER_REQUEST,
    Candidate,
    DecryptionDesk,
    devices_of,
    header_for,
)
from fulcrum.server.access.ledger import WorkflowError
from fulcrum.store.access import AccessRetained, AccessTarget, AccessWarrant

LOG = logging.getLogger("fulcrum.access")


class AccessService(DecryptionDesk):
    """The whole workflow: intake and approvals here, requests and partials inherited."""

    # --- judge keys and intake ---------------------------------------------------------------

    def register_judge_key(self, key: JudgeKey) -> int:
        if key.judge_key_id in judge_keys_from_log(self.entries()):
            raise WorkflowError(409, "judge_key_exists", "that judge key id is registered")
        return self._append("-", key.to_log_entry(self.now()), f"judge key {key.judge_key_id}")

    def submit(self, signed_bytes: bytes, submitted_by: str) -> str:
        try:
            signed = SignedWarrant.from_bytes(signed_bytes)
            verify_warrant(signed, judge_keys_from_log(self.entries()))
        except AccessError as exc:
            raise WorkflowError(403, "judge_signature", str(exc)) from exc
        w = signed.warrant
        with self.db.read() as s:
            if s.get(AccessWarrant, w.warrant_id) is not None:
                raise WorkflowError(409, "warrant_exists", "a warrant with this id is registered")
        opening = WarrantOpening.create(signed)
        required = self._council().policy.t
        entry = opening.registration_entry(time=self.now(), approvals_required=required)
        with self.db.write() as s:
            s.add(AccessWarrant(warrant_id=w.warrant_id, submitted_by=submitted_by,
                                sealed_opening=self.seal.seal(opening.to_bytes(), w.warrant_id),
                                stage="registered", created_at=self.now(),
                                window_start=w.window_start, window_end=w.window_end))  # fmt: skip
        self._append(w.warrant_id, entry, f"{len(w.targets)} target(s), salted commitment")
        return w.warrant_id

    # --- trustee approvals -------------------------------------------------------------------

    def approve(self, warrant_id: str) -> list[str]:
        """Each trustee decides independently; returns the approving trustees. A remote council's
        trustees decide in their own processes from their own copy of the (cosigned) log; one
        that cannot be reached is skipped and asked again on the next call."""
        council, opening = self._council(), self.opening(warrant_id)
        policy = default_policy(retrospective=self.retrospective_seconds > 0)
        decided = self._approvals(warrant_id)
        approvers = [t for t, ok in decided.items() if ok]
        keys = council.identity_keys() if council.remote else {}
        if council.remote:
            self.log.checkpoint()  # the trustees read the registration from a cosigned checkpoint
        for position, name in enumerate(council.policy.trustees, start=1):
            if name in decided:
                continue
            remote = self.remote_trustees.get(position) if council.remote else None
            if remote is not None:
                try:
                    decision = remote.decide(opening, name, VerifyKey(keys[name]))
                except (AccessError, KeyError) as exc:
                    LOG.warning("trustee %s gave no decision on %s: %s", name, warrant_id, exc)
                    continue
            else:
                decision = decide(opening, trustee_id=name, policy=policy,
                                  log_entries=self.entries(), now=self.now())  # fmt: skip
            codes = ",".join(r.code for r in decision.reasons)
            self._append(
                warrant_id,
                decision.to_log_entry(self.now()),
                f"{name}: {'approved' if decision.approved else 'denied ' + codes}",
            )
            if decision.approved:
                approvers.append(name)
        if len(approvers) >= council.policy.t:
            self._activate(warrant_id, opening)
        else:
            with self.db.write() as s:
                row = s.get(AccessWarrant, warrant_id)
                assert row is not None
                row.stage = "denied"
        return approvers

    def _activate(self, warrant_id: str, opening: WarrantOpening) -> None:
        w = opening.signed.warrant
        now_ms = self.now() * 1000
        with self.db.write() as s:
            row = s.get(AccessWarrant, warrant_id)
            assert row is not None
            if row.activated_at is not None:
                return
            row.stage, row.activated_at = "approved", self.now()
            for account in w.targets:
                s.add(
                    AccessTarget(
                        warrant_id=warrant_id,
                        account=account,
                        active_from=now_ms,
                        active_until=w.window_end * 1000,
                    )
                )
            # window-retained messages of the targets inside the window are now kept for it
            for r in s.scalars(select(AccessRetained).where(AccessRetained.reason == "window")):
                parties = {r.sender_account, *(x.partition("/")[0] for x in r.recipients)}
                if parties & set(w.targets) and r.server_ts >= w.window_start * 1000:
                    r.reason = "warrant"
        self.on_activate()


def judge_key(judge_key_id: str, court: str, public_key: bytes, valid_from: int,
              valid_until: int) -> JudgeKey:  # fmt: skip
    return JudgeKey(judge_key_id, court, VerifyKey(public_key), valid_from, valid_until)


__all__ = ["LIMIT_NOTE", "MAX_ITEMS_PER_REQUEST", "AccessService", "Candidate", "WorkflowError",
           "devices_of", "header_for", "judge_key"]  # fmt: skip

"""One valid sample of every entry type (used by the entry, fuzz and monitor tests)."""

from __future__ import annotations

from typing import TypeVar

from fulcrum.translog import (
    AbuseReportStats,
    AccessCompleted,
    BankManifest,
    ClearinghouseReportFiled,
    DecryptionRequested,
    E2EEOverride,
    EpochKey,
    EvidenceExported,
    FrankingKeyDestroyed,
    FrankingKeyRotated,
    JudgeKeyRegistered,
    LogEntry,
    NotificationDelayed,
    PartialsIssued,
    ReadinessRecord,
    SafetyRuleStats,
    ShareDestroyed,
    TransparencyReport,
    TrusteeApproval,
    WarrantRegistered,
    WarrantUnsealed,
    commit_target,
    counts,
)

D = bytes(range(32))
T = 1_700_000_000


def warrant(warrant_id: str = "w-1", required: int = 2, quota: int = 10) -> WarrantRegistered:
    return WarrantRegistered(
        time=T,
        warrant_id=warrant_id,
        agency="police-a",
        jurisdiction="XA",
        warrant_digest=D,
        target_commitment=commit_target(b"@alice:fulcrum.test", b"s" * 16),
        target_count=1,
        judge_key_id="judge-7",
        approvals_required=required,
        max_messages=quota,
        scope_start=T - 86400,
        scope_end=T,
        forward_seconds=0,
        back_seconds=86400,
        notify_after=T + 90 * 86400,
        expires_at=T + 30 * 86400,
    )


E = TypeVar("E", bound=LogEntry)


def sample(cls: type[E]) -> E:
    return next(e for e in samples() if isinstance(e, cls))


def samples() -> list[LogEntry]:
    return [
        EpochKey(
            time=T,
            epoch=3,
            public_key=D,
            threshold=3,
            trustees=("t1", "t2", "t3", "t4", "t5"),
            valid_from=T,
            valid_until=T + 7 * 86400,
        ),
        warrant(),
        TrusteeApproval(
            time=T + 1,
            warrant_id="w-1",
            trustee_id="t1",
            approved=True,
            reasons=(),
            approval_digest=D,
        ),
        TrusteeApproval(
            time=T + 1,
            warrant_id="w-1",
            trustee_id="t2",
            approved=True,
            reasons=(),
            approval_digest=D,
        ),
        DecryptionRequested(
            time=T + 2, warrant_id="w-1", request_id="r-1", epoch=3, field_count=4, request_digest=D
        ),
        PartialsIssued(
            time=T + 3,
            warrant_id="w-1",
            request_id="r-1",
            trustee_id="t1",
            partial_count=4,
            partials_digest=D,
        ),
        AccessCompleted(
            time=T + 4,
            warrant_id="w-1",
            request_id="r-1",
            trustees=("t1", "t2"),
            messages_decrypted=4,
        ),
        EvidenceExported(
            time=T, case_id="c-1", recipient="le-agency", bundle_digest=D, item_count=2
        ),
        NotificationDelayed(time=T, warrant_id="w-1", order_digest=D, delayed_until=T + 90 * 86400),
        WarrantUnsealed(time=T, warrant_id="w-1", unsealed_digest=D),
        ShareDestroyed(time=T, epoch=1, trustee_id="t1", attestation_digest=D),
        FrankingKeyRotated(time=T, key_id="fk-2", key_commitment=D, valid_from=T),
        FrankingKeyDestroyed(time=T, key_id="fk-1"),
        BankManifest(
            time=T,
            bank_id="bank-a",
            version=4,
            manifest_digest=D,
            entry_count=1000,
            sources=("src-1", "src-2"),
            source_signatures=(b"\x01" * 64, b"\x02" * 64),
        ),
        AbuseReportStats(time=T, period_start=T - 100, period_end=T, counts=counts({"spam": 3})),
        ClearinghouseReportFiled(
            time=T, report_id="cr-1", clearinghouse="ch", category="cat-a", report_digest=D
        ),
        TransparencyReport(
            time=T + 10,
            period_start=T - 100,
            period_end=T + 10,
            report_digest=D,
            counts=counts({"WarrantRegistered": 1, "free-form": 12}),
        ),
        SafetyRuleStats(
            time=T, rule_id="r-9", period_start=T - 1, period_end=T, counts=counts({"hits": 1})
        ),
        ReadinessRecord(
            time=T,
            component="matcher",
            version="1.2.0",
            passed=True,
            report_digest=D,
            metrics=counts({"recall_permille": 991}),
        ),
        E2EEOverride(
            time=T,
            override_id="o-1",
            scope="room:opaque-id",
            reason_code="court-order",
            authorized_by="judge-7",
            expires_at=T + 3600,
        ),
        JudgeKeyRegistered(
            time=T,
            judge_key_id="judge-7",
            court="court-1",
            public_key=D,
            valid_from=T,
            valid_until=T,
        ),
    ]

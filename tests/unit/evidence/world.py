"""A complete, real bundle: warrant, trustee partials, decrypted bodies, failures, attachments."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.unit.access.support import (
    BUNDLE,
    DAY,
    EPOCH,
    JUDGE_KEY,
    SHARES,
    T0,
    TRUST,
    FakeLog,
    make_warrant,
    message,
    opening_for,
    seeded_rng,
)

from fulcrum.access import (
    DecryptionRequest,
    check_request,
    decide,
    default_policy,
    issue_request_partials,
    open_request,
)
from fulcrum.e2ee.content import open_body, seal_body
from fulcrum.escrow import EpochKeyBundle, TrusteeShare, run_dkg
from fulcrum.evidence import (
    BundleResult,
    EvidenceAttachment,
    EvidenceCase,
    EvidenceMessage,
    EvidenceProvenance,
    LogProof,
    RequestProvenance,
    TrustedKeys,
    record_export,
    write_bundle,
)
from fulcrum.hazmat.signing import SigningKey
from fulcrum.translog import EpochKey

EXPORTER = SigningKey(hashlib.sha256(b"exporter").digest())
TRUSTED = TrustedKeys((EXPORTER.public_key(),), TRUST.log_verifier, TRUST.witnesses, 2)
BODIES = [
    "hello <script>alert(1)</script> & <img src=x onerror=alert(2)>",
    '=HYPERLINK("http://evil.example","click")',
    "+1 555 0100 and -2 and @SUM(A1) and $x^2$ math",
    "plain\nmultiline\x00with a NUL",
]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(3)</script></svg>'


def epoch_key_entry(bundle: EpochKeyBundle) -> EpochKey:
    names = tuple(f"trustee-{i}" for i in range(1, bundle.n + 1))
    return EpochKey(time=T0 - DAY, epoch=bundle.epoch, public_key=bundle.group_key.to_bytes(),
                    threshold=bundle.threshold, trustees=names, valid_from=bundle.valid_from,
                    valid_until=bundle.valid_until)  # fmt: skip


def proof(log: FakeLog, index: int) -> LogProof:
    logged = log.logged(index)
    return LogProof(logged.entry_bytes, index, logged.inclusion_proof, logged.checkpoint_note)


def forged_epoch() -> tuple[EpochKeyBundle, dict[int, TrusteeShare]]:
    """A platform's own epoch key for the same epoch: not the logged one."""
    dkg = run_dkg(5, 3, EPOCH, rng=seeded_rng(b"forged"))
    bundle = EpochKeyBundle.from_dkg(dkg[0], valid_from=0, valid_until=2**52)
    return bundle, {r.share.index: r.share for r in dkg}


def build(out: Path, *, n: int = 4, forge: bool = False) -> tuple[BundleResult, FakeLog]:
    """``forge``: provenance carries a substituted epoch key with partials that verify under it."""
    log = FakeLog()
    log.append(JUDGE_KEY.to_log_entry(T0 - DAY))
    epoch_key = log.append(epoch_key_entry(BUNDLE))
    opening = opening_for(make_warrant())
    reg = log.append(opening.registration_entry(time=T0, approvals_required=3))
    for trustee in ("trustee-1", "trustee-2", "trustee-3"):
        decision = decide(opening, trustee_id=trustee, policy=default_policy(),
                          log_entries=log.entries, now=T0 + 1)  # fmt: skip
        log.append(decision.to_log_entry(T0 + 2))
    pairs = [message(i) for i in range(n)]
    request = DecryptionRequest(opening.signed.warrant.warrant_id, "req-1", 7,
                                tuple(p[0] for p in pairs))  # fmt: skip
    idx = log.append(request.to_log_entry(T0 + DAY))
    binding = check_request(request, opening, log.logged(idx), TRUST, BUNDLE.group_key,
                            log_entries=log.entries, now=T0 + 2 * DAY)  # fmt: skip
    partials = [issue_request_partials(request, SHARES[i], BUNDLE.group_key, binding, opening)
                for i in (1, 2, 3)]  # fmt: skip
    keys = open_request(request, partials, BUNDLE, binding)
    shown, shown_partials = BUNDLE, partials
    if forge:
        shown, fake_shares = forged_epoch()
        shown_partials = [
            issue_request_partials(request, fake_shares[i], BUNDLE.group_key, binding, opening)
            for i in (1, 2, 3)
        ]
    messages = []
    for i, ((item, _), k_m) in enumerate(zip(pairs, keys, strict=True)):
        header = item.ctx.to_bytes()
        sealed = seal_body(k_m, header, BODIES[i % len(BODIES)].encode())
        body = open_body(k_m, header, sealed).decode()
        messages.append(
            EvidenceMessage(
                msg_id=item.ctx.msg_id, conv=item.ctx.conv, target="alice",
                sender=item.ctx.sender, sender_device=item.ctx.sender_device,
                recipients=item.recipient_devices, server_ts=item.ctx.client_ts + 150,
                client_ts=item.ctx.client_ts, body=body,
                attachments=(EvidenceAttachment("pic.png", "image/png", PNG),
                             EvidenceAttachment("x.svg", "image/svg+xml", SVG)) if i == 0 else (),
                reply_to=pairs[0][0].ctx.msg_id if i == 1 else None, forwarded=i == 2,
                escrow_field=item.field.to_bytes(), ctx=header, envelope=sealed,
                franking_verdict="valid", request_id="req-1",
            )
        )  # fmt: skip
    messages.append(
        EvidenceMessage(
            msg_id="m-broken", conv="conv-alice", target="alice", sender="bob",
            sender_device="bob-phone", recipients=(("alice", "alice-phone"),),
            server_ts=(T0 + DAY) * 1000, client_ts=(T0 + DAY) * 1000,
            status="undecryptable", failure="body does not authenticate under K_m",
        )
    )  # fmt: skip
    provenance = EvidenceProvenance(
        signed_warrant=opening.signed.to_bytes(),
        warrant_log_proofs=(proof(log, reg), proof(log, idx)),
        requests=(
            RequestProvenance("req-1", binding, shown.to_bytes(),
                              tuple((it.ctx.msg_id, it.field.to_bytes(), it.ctx.to_bytes())
                                    for it, _ in pairs),
                              tuple(p.to_bytes() for p in shown_partials),
                              proof(log, epoch_key)),
        ),
    )  # fmt: skip
    case = EvidenceCase("case-1", opening.signed.warrant.warrant_id, "police-a",
                        "police-a/unit-7", "fulcrum.test", T0 + 3 * DAY)  # fmt: skip
    result = write_bundle(out, case, messages, provenance, EXPORTER, actor="platform-legal")
    exported = log.append(result.export_entry(case, T0 + 3 * DAY))
    record_export(out, proof(log, exported), EXPORTER, actor="platform-legal", time=T0 + 3 * DAY)
    return result, log

"""Test world for lawful access: a witnessed log, a judge, 3-of-5 trustees and messages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from fulcrum.access import (
    DAY_SECONDS,
    JudgeKey,
    LoggedRequest,
    LogTrust,
    RequestItem,
    Warrant,
    WarrantOpening,
    sign_warrant,
    warrant_id_for,
)
from fulcrum.escrow import EpochKeyBundle, EscrowContext, create_escrow_field, run_dkg
from fulcrum.hazmat.ristretto import RandomSource
from fulcrum.hazmat.signing import SigningKey
from fulcrum.translog import (
    CosignatureSigner,
    InMemoryTree,
    LogEntry,
    NoteSigner,
    Witness,
    WitnessState,
    add_signatures,
    sign_checkpoint,
)
from fulcrum.translog.checkpoint import Checkpoint

T0 = 1_767_225_600  # 2026-01-01
EPOCH = 7
DAY = DAY_SECONDS


def seeded_rng(seed: bytes) -> RandomSource:
    counter = 0

    def draw(n: int) -> bytes:
        nonlocal counter
        counter += 1
        return hashlib.shake_256(seed + counter.to_bytes(8, "big")).digest(n)

    return draw


LOG_SIGNER = NoteSigner.generate("log.fulcrum.test")
WITNESSES = [CosignatureSigner.generate(f"witness{i}.fulcrum.test") for i in (1, 2, 3)]
TRUST = LogTrust(LOG_SIGNER.verifier(), tuple(w.verifier() for w in WITNESSES), 2)
JUDGE = SigningKey(hashlib.sha256(b"judge").digest())
JUDGE_KEY = JudgeKey(
    "judge-1", "District Court A", JUDGE.public_key(), T0 - 365 * DAY, T0 + 730 * DAY
)
DKG = run_dkg(5, 3, EPOCH, rng=seeded_rng(b"access"))
BUNDLE = EpochKeyBundle.from_dkg(DKG[0], valid_from=0, valid_until=2**52)
SHARES = {r.share.index: r.share for r in DKG}
TRUSTEE_IDS = {i: f"trustee-{i}" for i in SHARES}


@dataclass
class FakeLog:
    """An in-memory log; ``cosigned(index)`` proves an entry under a checkpoint with witnesses."""

    tree: InMemoryTree = field(default_factory=InMemoryTree)
    entries: list[LogEntry] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)

    def append(self, entry: LogEntry | None) -> int:
        assert entry is not None
        data = entry.encode()
        self.entries.append(entry)
        self.raw.append(data)
        return self.tree.append(data)

    def note(self, witnesses: int = 2) -> bytes:
        cp = Checkpoint(LOG_SIGNER.name, self.tree.size(), self.tree.root_hash())
        note = sign_checkpoint(cp, LOG_SIGNER)
        sigs = [
            Witness(w, [LOG_SIGNER.verifier()]).cosign(WitnessState(), note, [], T0).signature
            for w in WITNESSES[:witnesses]
        ]
        return add_signatures(note, sigs)

    def logged(self, index: int, witnesses: int = 2) -> LoggedRequest:
        return LoggedRequest(
            entry_bytes=self.raw[index],
            leaf_index=index,
            inclusion_proof=tuple(self.tree.inclusion_proof(index)),
            checkpoint_note=self.note(witnesses),
        )


def make_warrant(**changes: object) -> Warrant:
    fields: dict[str, object] = {
        "warrant_id": warrant_id_for("XA", "police-a", "2026-0001"),
        "agency": "police-a",
        "jurisdiction": "XA",
        "legal_basis": "Criminal Procedure Code s. 100a",
        "targets": ["alice"],
        "window_start": T0,
        "window_end": T0 + 20 * DAY,
        "issued_at": T0,
        "judge_key_id": "judge-1",
        "max_messages": 1000,
    }
    fields.update(changes)
    return Warrant.create(**fields)  # type: ignore[arg-type]


def opening_for(warrant: Warrant, key: SigningKey = JUDGE) -> WarrantOpening:
    return WarrantOpening.create(sign_warrant(warrant, key), salt=bytes(range(32)))


def message(
    i: int,
    *,
    sender: str = "alice",
    recipients: tuple[str, ...] = ("bob",),
    ts: int = T0 + DAY,
    epoch: int = EPOCH,
    k_m: bytes | None = None,
) -> tuple[RequestItem, bytes]:
    """An escrowed message (item) and its content key."""
    devices = [(r, f"{r}-phone") for r in recipients]
    ctx = EscrowContext.for_message(
        epoch=epoch,
        conv=f"conv-{sender}",
        msg_id=f"m{i:06d}",
        sender=sender,
        sender_device=f"{sender}-phone",
        recipient_devices=devices,
        client_ts=ts * 1000 + i,
    )
    key = k_m if k_m is not None else hashlib.sha256(b"k%d" % i).digest()
    field_ = create_escrow_field(key, ctx, BUNDLE.group_key)
    return RequestItem.create(field_, ctx, devices), key

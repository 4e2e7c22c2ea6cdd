"""Distributed key generation for the n trustees of one escrow epoch (threshold t).

Joint-Feldman DKG with commit-then-reveal, as a message-passing state machine with no I/O. Each
trustee is also a dealer of a random degree t-1 polynomial f_i. The caller moves a
``DkgParticipant`` from phase to phase when its (caller-owned) deadline for the phase passes:

1. ``commitment()`` -> broadcast ``DealerCommitment`` = H(epoch, n, t, dealer, salt, C_i0..C_i,t-1).
   Feed every received one to ``receive_commitment``.
2. ``reveal()`` -> broadcast ``DealerReveal`` (the Feldman commitments C_ik = a_ik·G and the salt)
   and send each ``DealerShare`` f_i(j) to trustee j ENCRYPTED (the values are plaintext here).
   Dealers that sent no commitment are disqualified. Feed ``receive_reveal`` / ``receive_share``.
3. ``complaints()`` -> broadcast. A dealer whose reveal is missing or does not open its commitment
   is disqualified outright; a missing share or one failing f_i(j)·G == sum_k j^k·C_ik draws a
   complaint. Feed every complaint (own ones included) to ``receive_complaint``.
4. ``responses()`` -> broadcast the shares this dealer was complained about, in the clear. Feed
   ``receive_response``; a response that fails the Feldman check disqualifies the dealer.
5. ``finish()`` -> ``DkgResult``. Unanswered complaints disqualify; QUAL is everyone else (at
   least t dealers are required). Y_e = sum C_i0, Y_{e,j} = sum_i f_i(j)·G, x_{e,j} = sum_i f_i(j).

Commitments are fixed before any reveal, so no dealer can choose its polynomial after seeing the
others'. A dealer can still withhold its reveal (and be disqualified) after seeing the others',
which lets c corrupt dealers choose among at most 2^c uniformly random keys; see docs/escrow.md.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from fulcrum.encoding import domain_message
from fulcrum.escrow.dkg_messages import (
    SALT_BYTES,
    Complaint,
    ComplaintResponse,
    DealerCommitment,
    DealerReveal,
    DealerShare,
)
from fulcrum.escrow.errors import DkgError
from fulcrum.escrow.share import TrusteeShare
from fulcrum.hazmat.ristretto import Point, RandomSource, Scalar, base_mul, random_scalar
from fulcrum.hazmat.symmetric import random_bytes, sha256

MAX_TRUSTEES = 64


@dataclass(frozen=True)
class DkgParameters:
    epoch: int
    n: int
    t: int

    def __post_init__(self) -> None:
        if not 1 <= self.t <= self.n <= MAX_TRUSTEES:
            raise DkgError(f"need 1 <= t <= n <= {MAX_TRUSTEES}")
        if self.epoch < 0:
            raise DkgError("epoch must be non-negative")

    def check_index(self, index: int, what: str) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= self.n:
            raise DkgError(f"{what} index {index!r} is not in 1..{self.n}")


@dataclass(frozen=True)
class DkgResult:
    """One trustee's output. Everything but ``share`` is public and identical at every trustee."""

    epoch: int
    n: int
    t: int
    group_key: Point
    verification_keys: tuple[Point, ...]  # Y_{e,j} for j = 1..n (index j-1)
    transcript_hash: bytes
    qualified: tuple[int, ...]
    disqualified: tuple[tuple[int, str], ...]  # (dealer, reason)
    share: TrusteeShare = field(repr=False)


class Phase(enum.Enum):
    COMMIT = 1
    REVEAL = 2
    COMPLAIN = 3
    RESPOND = 4
    DONE = 5


def commitment_digest(
    params: DkgParameters, dealer: int, salt: bytes, cs: tuple[Point, ...]
) -> bytes:
    head = [params.epoch.to_bytes(8, "big"), bytes([params.n, params.t, dealer]), salt]
    return sha256(domain_message("escrow-dkg-commit", *head, *(c.to_bytes() for c in cs)))


def feldman_eval(commitments: tuple[Point, ...], index: int) -> Point:
    """sum_k index^k · C_k (Horner's rule in the exponent)."""
    x = Scalar.from_int(index)
    acc = commitments[-1]
    for c in reversed(commitments[:-1]):
        acc = acc.mul(x) + c
    return acc


class DkgParticipant:
    """Trustee ``index`` (1..n) in the DKG for ``params``. Not thread-safe; holds its polynomial."""

    def __init__(self, params: DkgParameters, index: int, rng: RandomSource | None = None) -> None:
        params.check_index(index, "trustee")
        self.params, self.index = params, index
        draw = rng or random_bytes
        self._poly = tuple(random_scalar(draw) for _ in range(params.t))
        self._commitments = tuple(base_mul(a) for a in self._poly)
        self._salt = draw(SALT_BYTES)
        self._phase = Phase.COMMIT
        self._digests: dict[int, bytes] = {}
        self._reveals: dict[int, DealerReveal] = {}
        self._shares: dict[int, Scalar] = {}
        self._bad: dict[int, str] = {}
        self._complaints: set[tuple[int, int]] = set()
        self._answered: dict[tuple[int, int], Scalar] = {}

    def __repr__(self) -> str:
        return f"DkgParticipant(index={self.index}, phase={self._phase.name})"

    def _expect(self, phase: Phase, epoch: int | None = None) -> None:
        if self._phase is not phase:
            raise DkgError(f"DKG is in phase {self._phase.name}, not {phase.name}")
        if epoch is not None and epoch != self.params.epoch:
            raise DkgError(f"message for epoch {epoch}, this DKG is epoch {self.params.epoch}")

    def _share_for(self, j: int) -> Scalar:
        x, acc = Scalar.from_int(j), self._poly[-1]
        for a in reversed(self._poly[:-1]):
            acc = acc * x + a
        return acc

    # phase 1 --------------------------------------------------------------------------------
    def commitment(self) -> DealerCommitment:
        self._expect(Phase.COMMIT)
        digest = commitment_digest(self.params, self.index, self._salt, self._commitments)
        self._digests[self.index] = digest
        return DealerCommitment(self.params.epoch, self.index, digest)

    def receive_commitment(self, msg: DealerCommitment) -> None:
        self._expect(Phase.COMMIT, msg.epoch)
        self.params.check_index(msg.dealer, "dealer")
        if self._digests.setdefault(msg.dealer, msg.digest) != msg.digest:
            raise DkgError(f"dealer {msg.dealer} sent two different commitments")

    # phase 2 --------------------------------------------------------------------------------
    def reveal(self) -> tuple[DealerReveal, tuple[DealerShare, ...]]:
        """Close the commit phase; return the broadcast reveal and the private shares."""
        self._expect(Phase.COMMIT)
        if self.index not in self._digests:
            raise DkgError("call commitment() before reveal()")
        for dealer in range(1, self.params.n + 1):
            if dealer not in self._digests:
                self._bad.setdefault(dealer, "no commitment")
        self._phase = Phase.REVEAL
        reveal = DealerReveal(self.params.epoch, self.index, self._commitments, self._salt)
        self._reveals[self.index] = reveal
        self._shares[self.index] = self._share_for(self.index)  # a dealer's own share
        shares = tuple(
            DealerShare(self.params.epoch, self.index, j, self._share_for(j))
            for j in range(1, self.params.n + 1)
            if j != self.index
        )
        return reveal, shares

    def receive_reveal(self, msg: DealerReveal) -> None:
        self._expect(Phase.REVEAL, msg.epoch)
        self.params.check_index(msg.dealer, "dealer")
        if msg.dealer in self._bad or msg.dealer in self._reveals:
            return
        ok = len(msg.commitments) == self.params.t and len(msg.salt) == SALT_BYTES
        if not ok or commitment_digest(
            self.params, msg.dealer, msg.salt, msg.commitments
        ) != self._digests.get(msg.dealer):
            self._bad[msg.dealer] = "reveal does not match commitment"
            return
        if any(c.is_identity() for c in msg.commitments):
            self._bad[msg.dealer] = "identity in commitments"
            return
        self._reveals[msg.dealer] = msg

    def receive_share(self, msg: DealerShare) -> None:
        """Accepted in the commit or reveal phase (a share may arrive before its reveal)."""
        if self._phase not in (Phase.COMMIT, Phase.REVEAL):
            raise DkgError(f"DKG is in phase {self._phase.name}, not accepting shares")
        if msg.epoch != self.params.epoch:
            raise DkgError(f"share for epoch {msg.epoch}, this DKG is epoch {self.params.epoch}")
        self.params.check_index(msg.dealer, "dealer")
        if msg.recipient != self.index:
            raise DkgError(f"share for trustee {msg.recipient} delivered to {self.index}")
        self._shares.setdefault(msg.dealer, msg.value)

    # phase 3 --------------------------------------------------------------------------------
    def complaints(self) -> tuple[Complaint, ...]:
        """Close the reveal phase; return this trustee's complaints (broadcast them)."""
        self._expect(Phase.REVEAL)
        out = []
        for dealer in range(1, self.params.n + 1):
            if dealer in self._bad:
                continue
            if dealer not in self._reveals:
                self._bad[dealer] = "no reveal"
                continue
            share = self._shares.get(dealer)
            expected = feldman_eval(self._reveals[dealer].commitments, self.index)
            if share is None or base_mul(share) != expected:
                self._shares.pop(dealer, None)
                out.append(Complaint(self.params.epoch, dealer, self.index))
        self._phase = Phase.COMPLAIN
        return tuple(out)

    def receive_complaint(self, msg: Complaint) -> None:
        self._expect(Phase.COMPLAIN, msg.epoch)
        self.params.check_index(msg.dealer, "dealer")
        self.params.check_index(msg.complainer, "complainer")
        if msg.dealer not in self._bad:
            self._complaints.add((msg.dealer, msg.complainer))

    # phase 4 --------------------------------------------------------------------------------
    def responses(self) -> tuple[ComplaintResponse, ...]:
        """Close the complaint phase; publicly answer every complaint against this dealer."""
        self._expect(Phase.COMPLAIN)
        self._phase = Phase.RESPOND
        return tuple(
            ComplaintResponse(self.params.epoch, self.index, j, self._share_for(j))
            for dealer, j in sorted(self._complaints)
            if dealer == self.index
        )

    def receive_response(self, msg: ComplaintResponse) -> None:
        self._expect(Phase.RESPOND, msg.epoch)
        key = (msg.dealer, msg.complainer)
        if key not in self._complaints or key in self._answered or msg.dealer in self._bad:
            return
        reveal = self._reveals[msg.dealer]
        if base_mul(msg.value) != feldman_eval(reveal.commitments, msg.complainer):
            self._bad[msg.dealer] = f"bad public share for trustee {msg.complainer}"
            return
        self._answered[key] = msg.value
        if msg.complainer == self.index:
            self._shares[msg.dealer] = msg.value

    # phase 5 --------------------------------------------------------------------------------
    def finish(self) -> DkgResult:
        self._expect(Phase.RESPOND)
        for dealer, j in sorted(self._complaints):
            if (dealer, j) not in self._answered:
                self._bad.setdefault(dealer, f"unanswered complaint from trustee {j}")
        qual = tuple(d for d in range(1, self.params.n + 1) if d not in self._bad)
        if len(qual) < self.params.t:
            raise DkgError(f"only {len(qual)} qualified dealers, need at least {self.params.t}")
        secret = Scalar.from_int(0)
        for d in qual:
            secret = secret + self._shares[d]
        joint = []
        for k in range(self.params.t):
            acc = Point.identity()
            for d in qual:
                acc = acc + self._reveals[d].commitments[k]
            joint.append(acc)
        group_key = joint[0]
        vkeys = tuple(feldman_eval(tuple(joint), j) for j in range(1, self.params.n + 1))
        if group_key.is_identity() or any(v.is_identity() for v in vkeys):
            raise DkgError("degenerate DKG output")
        self._phase = Phase.DONE
        share = TrusteeShare(self.params.epoch, self.index, secret, vkeys[self.index - 1])
        return DkgResult(
            epoch=self.params.epoch,
            n=self.params.n,
            t=self.params.t,
            group_key=group_key,
            verification_keys=vkeys,
            transcript_hash=self._transcript_hash(qual, group_key, vkeys),
            qualified=qual,
            disqualified=tuple(sorted(self._bad.items())),
            share=share,
        )

    def _transcript_hash(self, qual: tuple[int, ...], y: Point, vkeys: tuple[Point, ...]) -> bytes:
        p = self.params
        parts: list[bytes] = [p.epoch.to_bytes(8, "big"), bytes([p.n, p.t])]
        for d in range(1, p.n + 1):
            parts.append(self._digests.get(d, b""))
            reveal = self._reveals.get(d)
            parts.append(b"".join(c.to_bytes() for c in reveal.commitments) if reveal else b"")
        parts.append(b"".join(bytes(pair) for pair in sorted(self._complaints)))
        parts.append(
            b"".join(
                bytes(k) + v.to_bytes()
                for k, v in sorted(self._answered.items(), key=lambda kv: kv[0])
            )
        )
        parts.append(bytes(qual))
        parts.append(y.to_bytes() + b"".join(v.to_bytes() for v in vkeys))
        return sha256(domain_message("escrow-dkg-transcript", *parts))


def run_dkg(n: int, t: int, epoch: int, rng: RandomSource | None = None) -> tuple[DkgResult, ...]:
    """Run all n trustees in-process (demos and tests); result i-1 belongs to trustee i."""
    params = DkgParameters(epoch, n, t)
    trustees = [DkgParticipant(params, i, rng) for i in range(1, n + 1)]
    commits = [p.commitment() for p in trustees]
    for p in trustees:
        for c in commits:
            p.receive_commitment(c)
    revealed = [p.reveal() for p in trustees]
    for p in trustees:
        for reveal, shares in revealed:
            p.receive_reveal(reveal)
            for s in shares:
                if s.recipient == p.index:
                    p.receive_share(s)
    complaints = [c for p in trustees for c in p.complaints()]
    for p in trustees:
        for complaint in complaints:
            p.receive_complaint(complaint)
    responses = [r for p in trustees for r in p.responses()]
    for p in trustees:
        for r in responses:
            p.receive_response(r)
    return tuple(p.finish() for p in trustees)

"""Trustee partial decryptions with a batched Chaum-Pedersen (DLEQ) proof, and combining them.

For a request (id ``request_id``, e.g. the hash of its ``DecryptionRequested`` log entry) over
items i = 1..m with escrow fields R_i, trustee j returns D_ij = x_j·R_i and ONE proof that
log_G Y_j = log_{R_i} D_ij for every i at once (the composite technique of RFC 9497 §2.2.1):

    seed = SHA-512("escrow-dleq-seed" || LP(request_id) || LP(epoch) || LP(j) || LP(Y_j)
                   || LP(R_1) .. LP(R_m) || LP(D_1j) .. LP(D_mj))
    rho_i = H_s("escrow-dleq-weight", seed, i)
    M = sum rho_i·R_i ;  Z = sum rho_i·D_ij          (the prover computes Z = x_j·M)
    k random ;  A1 = k·G ;  A2 = k·M
    c = H_s("escrow-dleq", seed, M, Z, A1, A2) ;  z = k - c·x_j
    verify: c == H_s("escrow-dleq", seed, M, Z, z·G + c·Y_j, z·M + c·Z)

The weights are fixed by a hash of everything, so a trustee cannot pick wrong D_ij that cancel in
the sum (soundness error m/L per proof). The verifier pays 2 scalar multiplications per item instead
of 4 for per-item proofs. A failed proof rejects the trustee's whole batch and names the trustee.
The proof is bound to ``request_id``: replaying it for another request fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fulcrum.encoding import domain_message
from fulcrum.escrow.context import EscrowContext
from fulcrum.escrow.epoch import EpochKeyBundle, lagrange_coefficients
from fulcrum.escrow.errors import (
    BadPartialError,
    EscrowError,
    EscrowFieldError,
    EscrowOpenError,
    EscrowProofError,
    InsufficientPartialsError,
    OutOfScopeError,
)
from fulcrum.escrow.field import EscrowField, open_escrow_field, verify_escrow_proof
from fulcrum.escrow.share import TrusteeShare
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.ristretto import (
    GROUP_ORDER,
    Point,
    RandomSource,
    Scalar,
    base_mul,
    hash_to_scalar,
    hash_to_scalars,
    random_scalar,
    weighted_sum,
)
from fulcrum.hazmat.symmetric import sha512

MAX_REQUEST_ID_BYTES = 256


@dataclass(frozen=True)
class DecryptionItem:
    """One message in a decryption request: its escrow field and its context."""

    field: EscrowField
    ctx: EscrowContext


@dataclass(frozen=True)
class TrusteePartial:
    """Trustee ``trustee_index``'s partials D_ij (in item order) and their batched DLEQ proof."""

    epoch: int
    trustee_index: int
    request_id: bytes
    partials: tuple[Point, ...]
    challenge: Scalar
    response: Scalar

    def to_bytes(self) -> bytes:
        """``LP(request_id) || epoch(8) || index(1) || c || z || D_1 .. D_m``."""
        head = len(self.request_id).to_bytes(4, "big") + self.request_id
        head += self.epoch.to_bytes(8, "big") + bytes([self.trustee_index])
        body = self.challenge.to_bytes() + self.response.to_bytes()
        return head + body + b"".join(d.to_bytes() for d in self.partials)

    @classmethod
    def from_bytes(cls, data: bytes) -> TrusteePartial:
        """Strict parse; every D must decode strictly (canonical, not the identity)."""
        raw = bytes(data)
        try:
            n = int.from_bytes(raw[:4], "big")
            if len(raw) < 4 + n + 9 + 64 or not 1 <= n <= MAX_REQUEST_ID_BYTES:
                raise EscrowFieldError("truncated trustee partial")
            rest = raw[4 + n + 9 + 64 :]
            if not rest or len(rest) % 32:
                raise EscrowFieldError("trustee partial has a bad length")
            off = 4 + n
            return cls(
                epoch=int.from_bytes(raw[off : off + 8], "big"),
                trustee_index=raw[off + 8],
                request_id=raw[4:off],
                challenge=Scalar.from_bytes(raw[off + 9 : off + 41]),
                response=Scalar.from_bytes(raw[off + 41 : off + 73]),
                partials=tuple(Point.from_bytes(rest[i : i + 32]) for i in range(0, len(rest), 32)),
            )
        except CryptoError as exc:
            raise EscrowFieldError("trustee partial has an invalid point or scalar") from exc


def _check_request_id(request_id: bytes) -> None:
    if not isinstance(request_id, bytes) or not 1 <= len(request_id) <= MAX_REQUEST_ID_BYTES:
        raise EscrowError(f"request id must be 1 to {MAX_REQUEST_ID_BYTES} bytes")


def _seed(
    request_id: bytes, epoch: int, index: int, key: Point, rs: Sequence[Point], ds: Sequence[Point]
) -> bytes:
    fields = [request_id, epoch.to_bytes(8, "big"), index.to_bytes(2, "big"), key.to_bytes()]
    fields += [p.to_bytes() for p in rs] + [d.to_bytes() for d in ds]
    return sha512(domain_message("escrow-dleq-seed", *fields))


def _weights(seed: bytes, count: int) -> list[Scalar]:
    """rho_i = H_s("escrow-dleq-weight", seed, i) for i = 0..count-1 (one hash each)."""
    return hash_to_scalars("escrow-dleq-weight", (seed,), count)


def _challenge(seed: bytes, m: Point, z: Point, a1: Point, a2: Point) -> Scalar:
    pts = (m, z, a1, a2)
    return hash_to_scalar("escrow-dleq", seed, *(p.to_bytes() for p in pts))


def issue_partials(
    share: TrusteeShare,
    items: Sequence[DecryptionItem],
    request_id: bytes,
    epoch_key: Point,
    *,
    in_scope: Callable[[EscrowContext], bool] | None = None,
    rng: RandomSource | None = None,
) -> TrusteePartial:
    """A trustee's answer to a logged request: checks every item, then D_ij = x_j·R_i + proof.

    Refuses (``EscrowProofError`` / ``OutOfScopeError``, naming the item) any item from another
    epoch, whose Schnorr proof does not bind its R to its ctx, or that ``in_scope`` rejects.
    Checking that the request is in a witness-cosigned checkpoint is the caller's job.
    """
    _check_request_id(request_id)
    if not items:
        raise EscrowError("a decryption request needs at least one item")
    for i, item in enumerate(items):
        if item.ctx.epoch != share.epoch:
            raise EscrowProofError(f"item {i} is from epoch {item.ctx.epoch}, not {share.epoch}")
        if not verify_escrow_proof(item.field, item.ctx, epoch_key):
            raise EscrowProofError(f"item {i}: escrow proof does not bind R to its context")
        if in_scope is not None and not in_scope(item.ctx):
            raise OutOfScopeError(i)
    x = share.secret
    rs = [item.field.R for item in items]
    ds = tuple(r.mul(x) for r in rs)
    seed = _seed(request_id, share.epoch, share.index, share.verification_key, rs, ds)
    m = weighted_sum(_weights(seed, len(rs)), rs)
    z_point = m.mul(x)
    k = random_scalar(rng)
    a1, a2 = base_mul(k), m.mul(k)
    c = _challenge(seed, m, z_point, a1, a2)
    return TrusteePartial(share.epoch, share.index, request_id, ds, c, k - c * x)


def verify_partial(
    partial: TrusteePartial,
    items: Sequence[DecryptionItem],
    bundle: EpochKeyBundle,
    request_id: bytes,
) -> bool:
    """True iff the partial answers exactly this request and its DLEQ proof holds."""
    if partial.request_id != request_id or partial.epoch != bundle.epoch:
        return False
    if not 1 <= partial.trustee_index <= bundle.n or len(partial.partials) != len(items):
        return False
    if any(d.is_identity() for d in partial.partials):
        return False
    key = bundle.verification_key(partial.trustee_index)
    rs = [item.field.R for item in items]
    seed = _seed(request_id, bundle.epoch, partial.trustee_index, key, rs, partial.partials)
    weights = _weights(seed, len(rs))  # the same rho_i weigh the R_i and the D_ij
    m, z_point = weighted_sum(weights, rs), weighted_sum(weights, partial.partials)
    c, z = partial.challenge, partial.response
    a1 = base_mul(z) + key.mul(c)
    a2 = m.mul(z) + z_point.mul(c)
    return _challenge(seed, m, z_point, a1, a2) == c


@dataclass(frozen=True)
class _CoefficientGroup:
    """Trustees whose Lagrange coefficients are equal up to sign: their D are added or subtracted
    first and the sum is multiplied once (not at all when the magnitude is 1)."""

    scale: Scalar | None  # None: magnitude 1, no multiplication
    negate: bool  # subtract the group's sum from the total (only when scale is None)
    members: tuple[tuple[int, bool], ...]  # (column, subtract); the first is never subtracted


def _coefficient_groups(weights: Sequence[Scalar]) -> list[_CoefficientGroup]:
    by_magnitude: dict[int, list[tuple[int, bool]]] = {}
    for column, weight in enumerate(weights):
        v = weight.to_int()
        negative = v > GROUP_ORDER - v
        by_magnitude.setdefault(GROUP_ORDER - v if negative else v, []).append((column, negative))
    groups = []
    for magnitude, members in by_magnitude.items():
        members.sort(key=lambda m: m[1])  # a positive member first, if there is one
        flip = members[0][1]  # every member negative: add them all and negate the group
        relative = tuple((column, negative != flip) for column, negative in members)
        if magnitude == 1:
            groups.append(_CoefficientGroup(None, flip, relative))
        else:
            scale = Scalar.from_int(-magnitude if flip else magnitude)
            groups.append(_CoefficientGroup(scale, False, relative))
    groups.sort(key=lambda g: g.negate)  # additions before subtractions
    return groups


def _combine_row(groups: Sequence[_CoefficientGroup], row: Sequence[Point]) -> Point:
    acc: Point | None = None
    for group in groups:
        part = row[group.members[0][0]]
        for column, subtract in group.members[1:]:
            part = part - row[column] if subtract else part + row[column]
        if group.scale is not None:
            part = part.mul(group.scale)
        if acc is None:
            acc = Point.identity() - part if group.negate else part
        else:
            acc = acc - part if group.negate else acc + part
    return Point.identity() if acc is None else acc


def combine_shared_points(
    partials: Sequence[TrusteePartial], threshold: int, count: int
) -> tuple[Point, ...]:
    """S_i = sum lambda_j·D_ij over the t lowest-indexed partials (no proof checks here).

    The Lagrange coefficients are computed once for the request, not per item, and combined
    before any point is multiplied: trustees whose coefficients are equal up to sign share one
    multiplication, and a coefficient of +-1 needs none. For trustees 1, 2, 3 (lambda = 3, -3, 1)
    that is S_i = 3·(D_i1 - D_i2) + D_i3: one multiplication per item instead of three.
    """
    chosen = sorted(partials, key=lambda p: p.trustee_index)[:threshold]
    lambdas = lagrange_coefficients([p.trustee_index for p in chosen])
    weights = [lambdas[p.trustee_index] for p in chosen]
    columns = [p.partials for p in chosen]
    groups = _coefficient_groups(weights)
    if all(g.scale is not None and len(g.members) == 1 for g in groups):
        return tuple(weighted_sum(weights, [d[i] for d in columns]) for i in range(count))
    return tuple(_combine_row(groups, [d[i] for d in columns]) for i in range(count))


def recover_shared_points(
    items: Sequence[DecryptionItem],
    partials: Sequence[TrusteePartial],
    bundle: EpochKeyBundle,
    request_id: bytes,
) -> tuple[Point, ...]:
    """Verify every partial, then S_i = sum lambda_j·D_ij over the first t valid trustees.

    ``BadPartialError`` names every trustee whose partial fails; ``InsufficientPartialsError`` when
    fewer than t distinct trustees answered.
    """
    _check_request_id(request_id)
    if not items:
        raise EscrowError("a decryption request needs at least one item")
    indices = [p.trustee_index for p in partials]
    if len(set(indices)) != len(indices):
        raise EscrowError("two partials from the same trustee")
    bad = tuple(
        sorted(
            p.trustee_index for p in partials if not verify_partial(p, items, bundle, request_id)
        )
    )
    if bad:
        raise BadPartialError(bad)
    if len(partials) < bundle.threshold:
        raise InsufficientPartialsError(
            f"{len(partials)} trustee partials, need {bundle.threshold}"
        )
    return combine_shared_points(partials, bundle.threshold, len(items))


def open_items(items: Sequence[DecryptionItem], shared: Sequence[Point]) -> tuple[bytes, ...]:
    """K_m of every item from its S_i; ``EscrowOpenError`` names an item that does not open."""
    keys = []
    for i, (item, s) in enumerate(zip(items, shared, strict=True)):
        try:
            keys.append(open_escrow_field(item.field, s, item.ctx))
        except EscrowFieldError as exc:
            raise EscrowOpenError(i) from exc
    return tuple(keys)


def combine_partials(
    items: Sequence[DecryptionItem],
    partials: Sequence[TrusteePartial],
    bundle: EpochKeyBundle,
    request_id: bytes,
) -> tuple[bytes, ...]:
    """Verify the partials, combine any t of them and return each item's content key K_m."""
    return open_items(items, recover_shared_points(items, partials, bundle, request_id))


def joint_epoch_key(group_a: EpochKeyBundle, group_b: EpochKeyBundle) -> Point:
    """Two trustee groups that must both agree: Y_e = Y_A + Y_B (same epoch)."""
    if group_a.epoch != group_b.epoch:
        raise EscrowError("the two trustee groups' bundles are for different epochs")
    return group_a.group_key + group_b.group_key


def combine_two_groups(
    items: Sequence[DecryptionItem],
    partials_a: Sequence[TrusteePartial],
    bundle_a: EpochKeyBundle,
    partials_b: Sequence[TrusteePartial],
    bundle_b: EpochKeyBundle,
    request_id: bytes,
) -> tuple[bytes, ...]:
    """K_m of every item when Y_e = Y_A + Y_B: S_i = S_iA + S_iB needs t of EACH group."""
    s_a = recover_shared_points(items, partials_a, bundle_a, request_id)
    s_b = recover_shared_points(items, partials_b, bundle_b, request_id)
    return open_items(items, [a + b for a, b in zip(s_a, s_b, strict=True)])

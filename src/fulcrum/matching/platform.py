"""The platform's role: open what the vouchers allow, verify, count per account, and release
review material only once an account reaches the threshold of verified matches.

    matcher = PlatformMatcher(manifest, tag_table)
    result = matcher.process_bundle(account, image_id, bundle_bytes, now)
    if isinstance(result, ThresholdReached): queue result.items for human review

State is in memory per account; ``load_account`` / ``account_state`` / ``forget_account``
move it to and from storage between bundles (the server keeps it in SQL). Nothing is returned to
the client either way.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from fulcrum.hazmat import shamir
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.symmetric import aes256gcm_open
from fulcrum.matching.account import AccountShares, unwrap_review_key
from fulcrum.matching.errors import ManifestError, VoucherFloodError, VoucherFormatError
from fulcrum.matching.manifest import BankManifest, ManifestTrust
from fulcrum.matching.pdq import MATCH_DISTANCE, hamming
from fulcrum.matching.tagtable import TagTable
from fulcrum.matching.voucher import payload_aad, payload_key, review_aad, voucher_aad
from fulcrum.matching.wire import PayloadContents, VariantView, parse_bundle_views

WINDOW_SECONDS = 30 * 24 * 3600
_ZERO_NONCE = bytes(12)


@dataclass(frozen=True)
class MatchPolicy:
    max_distance: int = MATCH_DISTANCE  # 24 for the strict setting
    threshold: int | None = None  # None: the manifest's account_threshold
    window_seconds: int = WINDOW_SECONDS
    max_bundles_per_window: int = 2000
    rate_window_seconds: int = 24 * 3600


@dataclass(frozen=True)
class ReviewItem:
    """One matched image released for human review."""

    image_id: str
    entry_id: str
    distance: int
    matched_at: int
    review_material: bytes = field(repr=False)


@dataclass(frozen=True)
class ThresholdReached:
    """The account passed the threshold: review material of the matched images only."""

    account: str
    generation: int
    items: tuple[ReviewItem, ...]


@dataclass(frozen=True)
class BundleObservation:
    """What the platform learned from one bundle (for the leakage metrics; no secrets)."""

    account: str
    image_id: str
    at: int
    key_hits: int  # tag hits at their own position j (a 64-bit tag matches only with its key)
    max_shares_one_entry: int  # most such hits for one bank entry
    payload_opened: bool
    entry_id: str | None
    distance: int | None
    verified: bool


@dataclass(frozen=True)
class VerifiedMatch:
    """One verified match of an account: what the platform keeps to rebuild the account key
    later (the image's account-key shares and its sealed review material)."""

    image_id: str
    entry_id: str
    distance: int
    at: int
    shares: AccountShares = field(repr=False)
    review_sealed: bytes = field(repr=False)
    epoch: int = 0  # the epoch whose review AAD sealed ``review_sealed``


_Match = VerifiedMatch  # the name earlier callers used


@dataclass(frozen=True)
class AccountState:
    """An account's per-account matcher state, for storage between bundles: its verified matches
    (inside the window, plus released ones), the images already released and the times of the
    bundles in the current rate window. Rebuilt account keys are not part of it (recomputed)."""

    matches: tuple[VerifiedMatch, ...] = ()
    released: frozenset[str] = frozenset()
    sent: tuple[int, ...] = ()


@dataclass
class _Account:
    sent: deque[int] = field(default_factory=deque)
    matches: list[VerifiedMatch] = field(default_factory=list)
    keys: dict[int, bytes] = field(default_factory=dict)
    released: set[str] = field(default_factory=set)


class PlatformMatcher:
    """Matches voucher bundles of one epoch against its tag table."""

    def __init__(
        self,
        manifest: BankManifest,
        tag_table: TagTable,
        *,
        policy: MatchPolicy | None = None,
        trust: ManifestTrust | None = None,
        check_table_root: bool = True,
    ) -> None:
        if trust is not None:
            manifest.verify(trust)
        if tag_table.epoch != manifest.epoch or len(tag_table.entries) != manifest.entry_count:
            raise ManifestError("tag table does not belong to this manifest")
        if check_table_root and tag_table.root() != manifest.tag_table_root:
            raise ManifestError("tag table root differs from the manifest's")
        self.manifest = manifest
        self.params = manifest.params
        self.table = tag_table
        self.policy = policy or MatchPolicy()
        self.threshold = self.policy.threshold or self.params.account_threshold
        self.observations: list[BundleObservation] = []
        self._aads = [voucher_aad(self.params.epoch, j) for j in range(self.params.m)]
        self._accounts: dict[str, _Account] = {}

    def __repr__(self) -> str:
        return f"PlatformMatcher(epoch={self.params.epoch}, entries={len(self.table.entries)})"

    def load_account(self, account: str, state: AccountState) -> None:
        """Replace the in-memory state of ``account`` with ``state`` (e.g. read from storage)."""
        self._accounts[account] = _Account(
            sent=deque(state.sent),
            matches=list(state.matches),
            released=set(state.released),
        )

    def account_state(self, account: str) -> AccountState:
        """The current state of ``account`` (empty if it sent nothing) to store."""
        found = self._accounts.get(account)
        if found is None:
            return AccountState()
        return AccountState(tuple(found.matches), frozenset(found.released), tuple(found.sent))

    def forget_account(self, account: str) -> AccountState:
        """Remove ``account`` from memory and return its last state."""
        state = self.account_state(account)
        self._accounts.pop(account, None)
        return state

    def process_bundle(
        self, account: str, image_id: str, bundle: bytes, now: int
    ) -> ThresholdReached | None:
        """Process one image's bundle. Raises ``VoucherFloodError`` past the rate limit and
        ``VoucherFormatError`` on malformed bytes; otherwise returns ``ThresholdReached`` when
        (and only when) this bundle newly releases review material."""
        state = self._accounts.setdefault(account, _Account())
        self._rate_check(state, now)
        variants = parse_bundle_views(bundle, self.params)
        state.sent.append(now)
        best: VerifiedMatch | None = None
        hits, max_shares, opened = 0, 0, False
        for variant in variants:
            match, v_hits, v_max, v_open = self._open_variant(variant, image_id, now)
            hits, max_shares, opened = hits + v_hits, max(max_shares, v_max), opened or v_open
            if match is not None and (best is None or match.distance < best.distance):
                best = match
        self.observations.append(
            BundleObservation(
                account,
                image_id,
                now,
                hits,
                max_shares,
                opened,
                best.entry_id if best else None,
                best.distance if best else None,
                best is not None,
            )
        )
        if best is None or any(m.image_id == image_id for m in state.matches):
            return None
        state.matches.append(best)
        return self._maybe_release(account, state, now)

    def _rate_check(self, state: _Account, now: int) -> None:
        while state.sent and state.sent[0] <= now - self.policy.rate_window_seconds:
            state.sent.popleft()
        if len(state.sent) >= self.policy.max_bundles_per_window:
            raise VoucherFloodError(
                f"more than {self.policy.max_bundles_per_window} images in "
                f"{self.policy.rate_window_seconds} s; bundle refused"
            )

    def _open_variant(
        self, variant: VariantView, image_id: str, now: int
    ) -> tuple[VerifiedMatch | None, int, int, bool]:
        epoch, table, s = self.params.epoch, self.table, self.params.s
        query, rows = table.lookup_array(variant.tags)
        same_j = table.j[rows] == query  # a tag hit counts only at its own position j
        query, rows = query[same_j], rows[same_j]
        hits = len(rows)
        entries = table.rows_entry[rows]
        per_entry: dict[int, list[shamir.Share]] = {}
        max_shares = 0
        if hits:
            counts = np.bincount(entries)
            max_shares = int(counts.max())
            # Open boxes only for entries with >= s tag hits, and only until s shares open:
            # a near-duplicate hits hundreds of positions, but s shares rebuild r_img.
            for r, j, e in zip(rows.tolist(), query.tolist(), entries.tolist(), strict=True):
                if counts[e] < s or len(per_entry.get(e, ())) >= s:
                    continue
                try:
                    y = aes256gcm_open(
                        table.keys[r].tobytes(), variant.nonce, variant.box(j), self._aads[j]
                    )
                except CryptoError:
                    continue
                per_entry.setdefault(e, []).append(shamir.Share(j + 1, y))
        best: VerifiedMatch | None = None
        opened = False
        for entry_index, shares in per_entry.items():
            if len(shares) < self.params.s:
                continue
            try:
                r_img = shamir.combine(shares[: self.params.s])
                plain = aes256gcm_open(
                    payload_key(r_img), variant.nonce, variant.payload, payload_aad(epoch)
                )
                contents = PayloadContents.from_bytes(plain, self.params)
            except (CryptoError, VoucherFormatError):
                continue
            opened = True
            entry = table.entries[entry_index]
            distance = hamming(contents.pdq, entry.pdq)
            if distance > self.policy.max_distance:
                continue
            if best is None or distance < best.distance:
                best = VerifiedMatch(
                    image_id,
                    entry.entry_id,
                    distance,
                    now,
                    contents.shares,
                    contents.review_sealed,
                    epoch,
                )
        return best, hits, max_shares, opened

    def _maybe_release(self, account: str, state: _Account, now: int) -> ThresholdReached | None:
        state.matches = [m for m in state.matches if m.at > now - self.policy.window_seconds]
        generations = {
            g for m in state.matches for g in (m.shares.generation, m.shares.generation - 1)
        }
        for g in sorted(generations, reverse=True):
            members = [
                m for m in state.matches if g in (m.shares.generation, m.shares.generation - 1)
            ]
            if g not in state.keys:
                points: dict[int, shamir.Share] = {}
                for m in members:
                    points.setdefault(m.shares.x, m.shares.share(g))
                if len(points) < self.threshold:
                    continue
                try:
                    state.keys[g] = shamir.combine(list(points.values())[: self.threshold])
                except CryptoError:
                    continue
            items = self._release(
                state, g, [m for m in members if m.image_id not in state.released]
            )
            if items:
                return ThresholdReached(account, g, tuple(items))
        return None

    def _release(self, state: _Account, g: int, members: list[VerifiedMatch]) -> list[ReviewItem]:
        items = []
        for m in members:
            try:
                review_key = unwrap_review_key(state.keys[g], g, m.shares.wrap(g))
                padded = aes256gcm_open(
                    review_key, _ZERO_NONCE, m.review_sealed, review_aad(m.epoch)
                )
            except CryptoError:
                continue  # a corrupt or foreign share; this image stays sealed
            n = int.from_bytes(padded[:4], "big")
            if n > len(padded) - 4:
                continue
            state.released.add(m.image_id)
            items.append(ReviewItem(m.image_id, m.entry_id, m.distance, m.at, padded[4 : 4 + n]))
        return items

    def leakage_summary(self) -> dict[str, float]:
        """Per-bundle averages of what the platform learned (for the evaluation harness)."""
        n = len(self.observations) or 1
        obs = self.observations
        return {
            "bundles": float(len(obs)),
            "key_hits_per_bundle": sum(o.key_hits for o in obs) / n,
            "bundles_with_key_hit": sum(o.key_hits > 0 for o in obs) / n,
            "payload_opens_per_bundle": sum(o.payload_opened for o in obs) / n,
            "verified_per_bundle": sum(o.verified for o in obs) / n,
        }

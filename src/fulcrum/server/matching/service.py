"""The platform's matching state: current manifest and matchers per epoch (from the custodian),
per-account rate limits, and the verified matches kept in SQL (``fulcrum.store.matching``).

``PlatformMatcher`` (fulcrum.matching.platform) keeps per-account state in memory; here each
bundle is processed against state loaded (``load_account``) from ``matching_matches`` and the
new verified match (``account_state``) is written back in the send transaction, so a restart or
an epoch rotation loses nothing. The rebuilt account keys are not stored: they are recomputed
from the stored shares when needed.
"""

from __future__ import annotations

import struct
import threading
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy.orm import Session

from fulcrum.matching import (
    AccountState,
    BankManifest,
    MatchPolicy,
    PlatformMatcher,
    ThresholdReached,
    VerifiedMatch,
)
from fulcrum.matching.account import WRAP_BYTES, AccountShares
from fulcrum.matching.errors import VoucherFloodError, VoucherFormatError
from fulcrum.server.matching.link import CustodianLink
from fulcrum.server.matching.manifest_log import ManifestLog
from fulcrum.store.matching import MatchLedger, StoredMatch

_BUNDLE_EPOCH = struct.Struct(">4sBQ")
DEFAULT_MAX_IMAGES = 2000  # per account per rate window
RATE_WINDOW_SECONDS = 24 * 3600


def shares_to_bytes(s: AccountShares) -> bytes:
    return b"".join(
        [
            s.generation.to_bytes(4, "big"),
            s.x.to_bytes(16, "big"),
            s.y_current,
            s.y_previous,
            s.wrap_current,
            s.wrap_previous,
        ]
    )


def shares_from_bytes(data: bytes) -> AccountShares:
    if len(data) != 4 + 16 * 3 + 2 * WRAP_BYTES:
        raise VoucherFormatError("stored account shares have the wrong length")
    w = 52 + WRAP_BYTES
    return AccountShares(
        int.from_bytes(data[:4], "big"),
        int.from_bytes(data[4:20], "big"),
        data[20:36],
        data[36:52],
        data[52:w],
        data[w:],
    )


class RateLimiter:
    """A sliding window of event times per account (in memory: it restarts empty)."""

    def __init__(self, limit: int, window_seconds: int = RATE_WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window_seconds
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, account: str, now: float, count: int = 1) -> None:
        with self._lock:
            times = self._times.setdefault(account, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) + count > self.limit:
                raise VoucherFloodError(
                    f"more than {self.limit} images in {self.window} s; try again later"
                )
            times.extend([now] * count)


@dataclass
class MatchingCounters:
    bundles: int = 0
    verified: int = 0
    released: int = 0
    refused_flood: int = 0


class PlatformMatching:
    """Everything the platform's matching feature holds (``state.features["matching"]``)."""

    def __init__(
        self,
        link: CustodianLink,
        *,
        policy: MatchPolicy | None = None,
        max_images: int = DEFAULT_MAX_IMAGES,
        manifest_ttl: float = 0.0,
        manifest_log: ManifestLog | None = None,
    ) -> None:
        self.link = link
        self.manifest_log = manifest_log
        self.policy = policy or MatchPolicy()
        self.bundle_limit = RateLimiter(max_images)
        self.evaluate_limit = RateLimiter(max_images)
        self.counters = MatchingCounters()
        self.manifest_ttl = manifest_ttl
        self._matchers: dict[int, PlatformMatcher] = {}
        self._manifest: tuple[float, bytes, BankManifest] | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"PlatformMatching(epochs={sorted(self._matchers)})"

    def set_image_limit(self, limit: int) -> None:
        self.bundle_limit = RateLimiter(limit)
        self.evaluate_limit = RateLimiter(limit)

    def manifest(self) -> tuple[bytes, BankManifest]:
        """The custodian's current manifest (cached for ``manifest_ttl`` seconds)."""
        with self._lock:
            now = time.monotonic()
            if self._manifest is not None and now - self._manifest[0] < self.manifest_ttl:
                return self._manifest[1], self._manifest[2]
            raw = self.link.manifest_bytes()
            if self._manifest is not None and raw == self._manifest[1]:
                manifest = self._manifest[2]
            else:
                manifest = BankManifest.from_bytes(raw)
                if self.manifest_log is not None:  # the platform logs every manifest it serves
                    self.manifest_log.record(manifest)
            self._manifest = (now, raw, manifest)
            return raw, manifest

    def matcher_for(self, epoch: int) -> PlatformMatcher:
        with self._lock:
            found = self._matchers.get(epoch)
            if found is not None:
                return found
            _, manifest = self.manifest()
            if manifest.epoch != epoch:
                raise VoucherFormatError(f"vouchers are for epoch {epoch}, not a current one")
            matcher = PlatformMatcher(manifest, self.link.tag_table(), policy=self.policy)
            self._matchers[epoch] = matcher
            for old in sorted(self._matchers)[:-2]:  # keep this epoch and the one before
                del self._matchers[old]
            return matcher

    def evaluate(self, account: str, request: bytes, now: float) -> bytes:
        self.evaluate_limit.take(account, now)
        return self.link.evaluate(request)

    def process(
        self, session: Session, account: str, image_id: str, bundle: bytes, now: int
    ) -> ThresholdReached | None:
        """Open what ``bundle`` allows; store a verified match; return released review items.

        Nothing about an image that did not match is stored."""
        if len(bundle) < _BUNDLE_EPOCH.size:
            raise VoucherFormatError("voucher bundle too short")
        _, _, epoch = _BUNDLE_EPOCH.unpack_from(bundle)
        matcher = self.matcher_for(epoch)
        ledger = MatchLedger(session)
        stored = ledger.for_account(account, now - self.policy.window_seconds)
        loaded = AccountState(
            matches=tuple(
                VerifiedMatch(
                    m.image_id,
                    m.entry_id,
                    m.distance,
                    m.matched_at,
                    shares_from_bytes(m.shares),
                    m.review_sealed,
                    m.epoch,
                )
                for m in stored
            ),
            released=frozenset(m.image_id for m in stored if m.released_at is not None),
        )
        with self._lock:
            matcher.load_account(account, loaded)
            try:
                result = matcher.process_bundle(account, image_id, bundle, now)
                state = matcher.account_state(account)
            finally:
                matcher.forget_account(account)
                matcher.observations.clear()
        self.counters.bundles += 1
        known = {m.image_id for m in stored}
        for m in state.matches:
            if m.image_id == image_id and image_id not in known:
                self.counters.verified += 1
                ledger.add(
                    StoredMatch(
                        account,
                        image_id,
                        m.epoch,
                        m.entry_id,
                        m.distance,
                        m.at,
                        shares_to_bytes(m.shares),
                        m.review_sealed,
                        None,
                        None,
                    )
                )
        return result

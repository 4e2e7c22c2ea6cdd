"""The trustee's own view of the platform's transparency log.

``PlatformLog.fetch(leaf_index)`` reads the platform's public ``/v1/log`` endpoints itself: the
latest checkpoint (verified under the pinned log key and witness quorum), every entry up to its
size (their RFC 9162 root must equal the checkpoint's) and the inclusion proof of the request's
entry. What the caller sent as evidence is never used: only its leaf index says where to look.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from fulcrum.access import LoggedRequest, LogTrust
from fulcrum.encoding import EncodingError, b64d
from fulcrum.translog import (
    EpochKey,
    LogEntry,
    LogEntryError,
    NoteError,
    ProofError,
    TranslogError,
    leaf_hash,
    merkle_root,
    parse_entry,
    verify_cosigned_checkpoint,
)

PAGE = 1000


class EvidenceError(ValueError):
    """The platform's log could not be read or does not verify under the pinned keys."""


@dataclass(frozen=True)
class LogView:
    """A verified snapshot: the request's evidence and every entry of the checkpointed tree."""

    logged: LoggedRequest
    entries: tuple[LogEntry, ...]

    def epoch_key(self, epoch: int) -> bytes:
        keys = [e.public_key for e in self.entries if isinstance(e, EpochKey) and e.epoch == epoch]
        if not keys:
            raise EvidenceError(f"the log holds no EpochKey entry for epoch {epoch}")
        return keys[-1]


class PlatformLog:
    """Reads ``<platform>/v1/log/...`` and checks it against ``trust``."""

    def __init__(
        self,
        base_url: str,
        trust: LogTrust,
        *,
        timeout: float = 10.0,
        client: Callable[[], httpx.Client] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.trust = trust
        self._client = client or (lambda: httpx.Client(timeout=timeout))

    def __repr__(self) -> str:
        return f"PlatformLog({self.base_url})"

    def fetch(self, leaf_index: int) -> LogView:
        try:
            with self._client() as http:
                return self._fetch(http, leaf_index)
        except httpx.HTTPError as exc:
            raise EvidenceError(f"platform log unreachable: {type(exc).__name__}") from exc

    def _get(self, http: httpx.Client, path: str, **params: int) -> httpx.Response:
        r = http.get(f"{self.base_url}/v1/log{path}", params=params)
        if r.status_code != 200:
            raise EvidenceError(f"platform log answered {r.status_code} to {path}")
        return r

    def snapshot(self) -> tuple[LogEntry, ...]:
        """Every entry of the latest checkpointed tree, verified as ``fetch`` does."""
        try:
            with self._client() as http:
                _, raw = self._verified_entries(http)
        except httpx.HTTPError as exc:
            raise EvidenceError(f"platform log unreachable: {type(exc).__name__}") from exc
        try:
            return tuple(parse_entry(e) for e in raw)
        except LogEntryError as exc:
            raise EvidenceError(f"malformed platform log entry: {exc}") from exc

    def _fetch(self, http: httpx.Client, leaf_index: int) -> LogView:
        note, raw = self._verified_entries(http, leaf_index)
        try:
            size = len(raw)
            proof_body = self._get(http, "/proof/inclusion", index=leaf_index, size=size).json()
            proof = tuple(b64d(p) for p in proof_body["proof"])
            entries = tuple(parse_entry(e) for e in raw)
        except (KeyError, TypeError, ValueError, EncodingError, LogEntryError) as exc:
            if isinstance(exc, EvidenceError):
                raise
            raise EvidenceError(f"malformed platform log answer: {exc}") from exc
        logged = LoggedRequest(raw[leaf_index], leaf_index, proof, note)
        return LogView(logged, entries)

    def _verified_entries(
        self, http: httpx.Client, leaf_index: int | None = None
    ) -> tuple[bytes, list[bytes]]:
        """The cosigned checkpoint note and every entry of its tree (root recomputed)."""
        note = self._get(http, "/checkpoint").content
        t = self.trust
        try:
            cp = verify_cosigned_checkpoint(note, t.log_verifier, t.witnesses, t.min_witnesses)
        except (TranslogError, NoteError, ValueError) as exc:
            raise EvidenceError(f"checkpoint does not verify under the pinned keys: {exc}") from exc
        size = cp.checkpoint.size
        if leaf_index is not None and not 0 <= leaf_index < size:
            raise EvidenceError(f"entry {leaf_index} is not in the checkpointed tree of {size}")
        raw: list[bytes] = []
        try:
            while len(raw) < size:
                page = self._get(http, "/entries", start=len(raw), end=size).json()
                got = [b64d(e) for e in page["entries"]]
                if not got or int(page["start"]) != len(raw):
                    raise EvidenceError("platform log returned a short or misplaced page")
                raw.extend(got)
            raw = raw[:size]
        except (KeyError, TypeError, ValueError, EncodingError) as exc:
            if isinstance(exc, EvidenceError):
                raise
            raise EvidenceError(f"malformed platform log answer: {exc}") from exc
        try:
            if merkle_root([leaf_hash(e) for e in raw]) != cp.checkpoint.root_hash:
                raise EvidenceError("the log's entries do not match the checkpoint's root")
        except ProofError as exc:
            raise EvidenceError(f"cannot recompute the log root: {exc}") from exc
        return note, raw

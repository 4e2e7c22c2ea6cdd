"""Witnesses the log service reaches over HTTP (``fulcrum witness serve`` processes).

Configured with ``FULCRUM_LOG_WITNESSES``: comma-separated ``<witness vkey>@<base URL>`` entries
(the vkey is pinned by the operator; ``fulcrum witness key`` prints it). A ``RemoteWitness`` has
the interface of ``InProcessWitness``: it remembers the size it last saw the witness cosign, and a
409 answer tells it the witness's real size (the log then retries once with the right proof).
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from fulcrum.store import Database
from fulcrum.translog import CosignatureVerifier, RefusalReason, TranslogError, WitnessRefusal
from fulcrum.translog.note import std_b64decode, std_b64encode

ENV_VAR = "FULCRUM_LOG_WITNESSES"
ADD_CHECKPOINT_PATH = "/add-checkpoint"
_SIG_PREFIX = "\u2014 "


class WitnessUnreachable(TranslogError):
    """A remote witness did not answer (timeout, connection refused, unexpected reply)."""


def parse_witness_urls(value: str) -> list[tuple[str, str]]:
    """``[(vkey, url), ...]`` from ``vkey@url,vkey@url``; raises ``ValueError`` if malformed."""
    pairs: list[tuple[str, str]] = []
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        vkey, sep, url = entry.partition("@")
        if not sep or not url.startswith(("http://", "https://")):
            raise ValueError(f"{ENV_VAR} entry must be '<vkey>@<http(s) URL>': {entry!r}")
        pairs.append((vkey, url.rstrip("/")))
    return pairs


class RemoteWitness:
    def __init__(
        self,
        url: str,
        verifier: CosignatureVerifier,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.name = verifier.name
        self.verifier = verifier
        self._known = 0
        self._client = httpx.Client(timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"RemoteWitness({self.name} at {self.url})"

    def close(self) -> None:
        self._client.close()

    def known_size(self, _db: Database) -> int:
        return self._known

    def cosign(
        self, _db: Database, note: bytes, proof: Sequence[bytes], old_size: int, _now: int
    ) -> str:
        """POST add-checkpoint; the returned line is verified under the pinned key."""
        body = (
            f"old {old_size}\n".encode()
            + b"".join(std_b64encode(h).encode() + b"\n" for h in proof)
            + b"\n"
            + note
        )
        try:
            resp = self._client.post(self.url + ADD_CHECKPOINT_PATH, content=body)
        except httpx.HTTPError as exc:
            raise WitnessUnreachable(f"witness {self.name} unreachable: {exc}") from exc
        if resp.status_code == 409:
            text = resp.text.strip()
            if not text.isdigit():
                raise WitnessUnreachable(f"witness {self.name}: bad conflict body")
            self._known = int(text)
            raise WitnessRefusal(RefusalReason.CONFLICT, "stale old size", self._known)
        if resp.status_code != 200:
            try:
                reason = RefusalReason(resp.headers.get("Fulcrum-Refusal", ""))
            except ValueError:
                raise WitnessUnreachable(
                    f"witness {self.name} answered {resp.status_code}"
                ) from None
            raise WitnessRefusal(reason, f"remote witness {self.name}: {resp.text.strip()}")
        line = self._matching_line(resp.text, note)
        self._known = _size_of(note)
        return line

    def _matching_line(self, text: str, note: bytes) -> str:
        body = note.partition(b"\n\n")[0] + b"\n"
        for line in text.splitlines():
            if not line.startswith(_SIG_PREFIX):
                continue
            name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
            try:
                raw = std_b64decode(b64)
            except ValueError:
                continue
            if (
                name == self.name
                and len(raw) > 4
                and int.from_bytes(raw[:4], "big") == self.verifier.key_id
                and self.verifier.verify(body, raw[4:])
            ):
                return line + "\n"
        raise WitnessUnreachable(f"witness {self.name} returned no valid cosignature")


def _size_of(note: bytes) -> int:
    lines = note.split(b"\n")
    return int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0

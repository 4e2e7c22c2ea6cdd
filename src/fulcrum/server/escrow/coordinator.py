"""The platform's side of a DKG among trustees that run as separate processes: a relay.

``DkgCoordinator.run(epoch, valid_from, valid_until)`` drives the five phases of
``fulcrum.escrow.dkg`` over each trustee's ``POST /dkg/{epoch}/{phase}`` (see
``fulcrum.trustee.dkg``), all trustees in parallel per phase. It forwards what it is given: signed
broadcast messages to everyone and each ``SealedShare`` to its recipient only; it never holds a
share in clear, and it cannot forge a message because each carries its sender's signature for this
session. A trustee that is down, times out or answers garbage in a phase is dropped from the
remaining phases (the others then disqualify it as a dealer). The trustees that finish must all
have signed the same epoch key bundle; at least t valid signatures are needed. Otherwise
``DkgQuorumError`` names who is missing and who was disqualified.

The roster (each trustee's identity and box keys) is pinned in ``<data>/escrow/roster.json``
(``TrusteeRoster``): enrolled from ``GET /key`` the first time a trustee answers, and a later key
change is refused (``RosterError``) until an operator edits the file.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from fulcrum.encoding import b64d, b64e
from fulcrum.escrow import EpochKeyBundle, EpochKeySignature, verify_epoch_key_bundle
from fulcrum.escrow.dkg_messages import SESSION_BYTES, DkgRosterEntry, SealedShare
from fulcrum.escrow.errors import DkgError, EscrowError
from fulcrum.hazmat.signing import VerifyKey

ROSTER_FILE = "roster.json"
_T = TypeVar("_T")


class DkgQuorumError(DkgError):
    """Fewer than t trustees qualified or signed: ``missing`` names who dropped out."""

    def __init__(self, message: str, missing: Sequence[str], disqualified: Sequence[str] = ()):
        who = f"; missing: {', '.join(missing) or 'none'}"
        bad = f"; disqualified: {', '.join(disqualified)}" if disqualified else ""
        super().__init__(message + who + bad)
        self.missing = tuple(missing)
        self.disqualified = tuple(disqualified)


class RosterError(DkgError):
    """A trustee's keys differ from the pinned roster, or its roster entry does not verify."""


@dataclass(frozen=True)
class DkgPeer:
    """A trustee process: its DKG share index (1-based, the policy's order), name and URL."""

    index: int
    name: str
    url: str
    token: str = field(repr=False)
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class RemoteDkgOutcome:
    bundle: EpochKeyBundle
    signatures: tuple[EpochKeySignature, ...]
    trustee_keys: tuple[bytes, ...]
    missing: tuple[str, ...]
    disqualified: tuple[tuple[int, str], ...]


class TrusteeRoster:
    """The pinned public keys of the remote trustees (``<root>/roster.json``; no secret)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"TrusteeRoster({self.path})"

    def load(self) -> dict[str, DkgRosterEntry]:
        if not self.path.exists():
            return {}
        raw = json.loads(self.path.read_text())
        return {e.name: e for e in (DkgRosterEntry.from_json(x) for x in raw["trustees"])}

    def pin(self, entry: DkgRosterEntry) -> DkgRosterEntry:
        """Pin ``entry`` (first use) or check it against the pinned one."""
        entry.verify()
        pinned = self.load()
        old = pinned.get(entry.name)
        if old is not None:
            if (old.index, old.identity_key, old.box_key) != (
                entry.index, entry.identity_key, entry.box_key):  # fmt: skip
                raise RosterError(f"trustee {entry.name} presents keys that differ from the roster")
            return old
        pinned[entry.name] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"trustees": [e.to_json() for e in sorted(pinned.values(), key=lambda e: e.index)]}
        self.path.write_text(json.dumps(body, indent=2))
        return entry


def _blocking(make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to the end from sync code, also from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


class DkgCoordinator:
    """Runs the DKG among ``peers`` (all n trustees of the policy, threshold ``t``)."""

    def __init__(
        self, peers: Sequence[DkgPeer], t: int, roster: TrusteeRoster, *, timeout: float = 30.0
    ) -> None:
        self.peers = tuple(sorted(peers, key=lambda p: p.index))
        if [p.index for p in self.peers] != list(range(1, len(self.peers) + 1)):
            raise DkgError("remote trustees must have the indices 1..n")
        self.t, self.roster, self.timeout = t, roster, timeout

    def __repr__(self) -> str:
        return f"DkgCoordinator(n={len(self.peers)}, t={self.t})"

    def _client(self, peer: DkgPeer) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {peer.token}"}
        return httpx.AsyncClient(base_url=peer.url, headers=headers, timeout=self.timeout,
                                 transport=peer.transport)  # fmt: skip

    async def _call(self, peer: DkgPeer, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        async with self._client(peer) as http:
            r = await (http.get(path) if body is None else http.post(path, json=body))
        if r.status_code != 200:
            raise DkgError(f"{peer.name} answered {r.status_code}: {r.text[:200]}")
        out = r.json()
        if not isinstance(out, dict):
            raise DkgError(f"{peer.name} answered a non-object")
        return out

    async def _each(
        self, peers: Sequence[DkgPeer], path: str, bodies: dict[int, dict[str, Any] | None]
    ) -> tuple[dict[int, dict[str, Any]], dict[int, str]]:
        async def one(p: DkgPeer) -> tuple[int, dict[str, Any] | str]:
            try:
                return p.index, await self._call(p, path, bodies[p.index])
            except (httpx.HTTPError, ValueError) as exc:  # DkgError is a ValueError
                return p.index, f"{type(exc).__name__}: {exc}"

        results = await asyncio.gather(*(one(p) for p in peers))
        ok = {i: r for i, r in results if isinstance(r, dict)}
        failed = {i: r for i, r in results if isinstance(r, str)}
        return ok, failed

    async def enroll(self) -> tuple[dict[int, DkgRosterEntry], dict[int, str]]:
        """Fetch and pin every reachable trustee's keys: (the pinned roster by index, and why
        each unreachable trustee did not answer)."""
        ok, failed = await self._each(self.peers, "/key", {p.index: None for p in self.peers})
        for p in self.peers:
            if p.index in ok:
                try:
                    got = DkgRosterEntry.from_json(dict(ok[p.index], index=p.index))
                except DkgError as exc:
                    raise RosterError(f"{p.name}: {exc}") from exc
                if got.name != p.name:
                    raise RosterError(f"{p.url} is trustee {got.name}, expected {p.name}")
                self.roster.pin(got)
        pinned = self.roster.load()
        return {p.index: pinned[p.name] for p in self.peers if p.name in pinned}, failed

    def run(self, epoch: int, valid_from: int, valid_until: int) -> RemoteDkgOutcome:
        """Blocking wrapper of ``run_async`` (safe to call from inside an event loop)."""
        return _blocking(lambda: self.run_async(epoch, valid_from, valid_until))

    def post_each(
        self, path: str, body: dict[str, Any], names: Sequence[str] | None = None
    ) -> tuple[dict[int, dict[str, Any]], dict[int, str]]:
        """POST ``body`` to every trustee (or those in ``names``) at once (blocking): the answers
        by share index, and why each other trustee gave none (down, or a refusal)."""
        peers = [p for p in self.peers if names is None or p.name in names]
        return _blocking(lambda: self._each(peers, path, {p.index: body for p in peers}))

    async def run_async(self, epoch: int, valid_from: int, valid_until: int) -> RemoteDkgOutcome:
        names = {p.index: p.name for p in self.peers}
        roster, down = await self.enroll()
        live = [p for p in self.peers if p.index not in down]
        gone = {i: f"down: {why}" for i, why in down.items()}

        def check_quorum(what: str) -> None:
            if len(live) < self.t:
                missing = [f"{names[i]} ({why})" for i, why in sorted(gone.items())]
                raise DkgQuorumError(f"DKG for epoch {epoch}: {what}; {len(live)} of "
                                     f"{len(self.peers)} trustees left, need {self.t}",
                                     missing)  # fmt: skip

        async def phase(name: str, bodies: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
            nonlocal live
            ok, failed = await self._each(live, f"/dkg/{epoch}/{name}", dict(bodies))
            gone.update({i: f"{name}: {why}" for i, why in failed.items()})
            live = [p for p in live if p.index in ok]
            check_quorum(f"after {name}")
            return ok

        if len(roster) != len(self.peers):
            unknown = [f"{names[i]} (never enrolled)" for i in sorted(names) if i not in roster]
            why = "every trustee's keys must be pinned first (they are published with the key)"
            raise DkgQuorumError(f"DKG for epoch {epoch}: {why}", unknown)
        check_quorum("before commit")
        session = b64e(secrets.token_bytes(SESSION_BYTES))
        start = {
            "session": session,
            "n": len(self.peers),
            "t": self.t,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "roster": [e.to_json() for e in roster.values()],
        }
        got = await phase("commit", {p.index: start for p in live})
        commits = [got[i]["commitment"] for i in sorted(got)]
        got = await phase("reveal", {p.index: {"session": session, "commitments": commits}
                                     for p in live})  # fmt: skip
        reveals = [got[i]["reveal"] for i in sorted(got)]
        inbox: dict[int, list[Any]] = {p.index: [] for p in live}
        for i in sorted(got):
            for raw in got[i].get("shares", []):
                try:
                    recipient = SealedShare.from_json(raw).recipient
                except DkgError:
                    continue  # the recipient will complain about the missing share
                if recipient in inbox:
                    inbox[recipient].append(raw)
        got = await phase(
            "complain",
            {p.index: {"session": session, "reveals": reveals, "shares": inbox[p.index]}
             for p in live},
        )  # fmt: skip
        complaints = [c for i in sorted(got) for c in got[i].get("complaints", [])]
        got = await phase("respond", {p.index: {"session": session, "complaints": complaints}
                                      for p in live})  # fmt: skip
        responses = [r for i in sorted(got) for r in got[i].get("responses", [])]
        got = await phase("finish", {p.index: {"session": session, "responses": responses}
                                     for p in live})  # fmt: skip
        return self._outcome(epoch, got, roster, gone, names)

    def _outcome(
        self,
        epoch: int,
        got: dict[int, dict[str, Any]],
        roster: dict[int, DkgRosterEntry],
        gone: dict[int, str],
        names: dict[int, str],
    ) -> RemoteDkgOutcome:
        by_bundle: dict[str, list[int]] = {}
        for i, out in got.items():
            by_bundle.setdefault(str(out.get("bundle")), []).append(i)
        raw, signers = max(by_bundle.items(), key=lambda kv: len(kv[1]))
        missing = [f"{names[i]} ({why})" for i, why in sorted(gone.items())]
        try:
            bundle = EpochKeyBundle.from_bytes(b64d(raw))
            sigs = tuple(EpochKeySignature(i, b64d(str(got[i]["signature"])))
                         for i in sorted(signers))  # fmt: skip
            keys = {i: VerifyKey(e.identity_key) for i, e in roster.items()}
            verify_epoch_key_bundle(bundle, sigs, keys)
        except (ValueError, KeyError, EscrowError) as exc:
            raise DkgQuorumError(
                f"DKG for epoch {epoch}: no bundle with {self.t} valid signatures ({exc})", missing
            ) from exc
        if bundle.epoch != epoch:
            raise DkgQuorumError(f"trustees signed a bundle for epoch {bundle.epoch}", missing)
        first = got[signers[0]]
        disq = tuple((int(d), str(why)) for d, why in first.get("disqualified", []))
        return RemoteDkgOutcome(bundle, sigs, tuple(roster[i].identity_key for i in sorted(names)),
                                tuple(missing), disq)  # fmt: skip

"""One trustee's side of the DKG when the trustees run as separate processes.

The platform's coordinator (``fulcrum.server.escrow.coordinator``) only relays; this trustee runs
``fulcrum.escrow.dkg.DkgParticipant`` itself and checks everything it is handed:

    commit   {session, n, t, valid_from, valid_until, roster}  -> {commitment}
    reveal   {session, commitments}                            -> {reveal, shares (sealed)}
    complain {session, reveals, shares (sealed to me)}         -> {complaints}
    respond  {session, complaints}                             -> {responses}
    finish   {session, responses}                              -> {bundle, signature, ...}

Every broadcast message must carry its sender's signature for this session under the roster's
identity keys (the roster's box keys must be signed by those identities, and this trustee's own
entry must hold its own keys; ``pinned`` optionally fixes every peer's identity key). A message
that fails a check is dropped, which the state machine then treats as missing (no commitment,
no reveal, or a complaint). A sealed share that does not open draws a complaint. At ``finish``
the share and its validity window are written to this trustee's key store and the epoch key bundle
is signed.

At ``commit`` the trustee also checks the proposed validity window against its own rules
(``EpochRules``: the window must be exactly the epoch's under its own epoch length) and, reading
the platform's log itself (``log``: a ``PlatformLog``), that no ``EpochKey`` is logged for this
epoch nor for a window that overlaps it. A share left over from an aborted DKG (finished here, but
no ``EpochKey`` for the epoch ever reached the log) is wiped so that a fresh session can run; a
share whose epoch key IS logged is never replaced, and without a readable log none is.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from fulcrum.encoding import b64d, b64e
from fulcrum.escrow import EpochKeyBundle, sign_epoch_key_bundle
from fulcrum.escrow.dkg import DkgParameters, DkgParticipant
from fulcrum.escrow.dkg_messages import (
    SESSION_BYTES,
    Complaint,
    ComplaintResponse,
    DealerCommitment,
    DealerReveal,
    DkgMessage,
    DkgRosterEntry,
    SealedShare,
    SignedDkgMessage,
)
from fulcrum.escrow.errors import DkgError, EscrowError
from fulcrum.translog import EpochKey
from fulcrum.trustee.keystore import TrusteeKeyStore

if TYPE_CHECKING:
    from fulcrum.translog import LogEntry
    from fulcrum.trustee.destruction import EpochRules

PHASES = ("commit", "reveal", "complain", "respond", "finish")


class DkgRefused(ValueError):
    """This trustee will not take part (bad roster, wrong session or phase, share exists)."""


class WindowRefused(DkgRefused):
    """The proposed validity window breaks this trustee's rules or overlaps a logged epoch."""


class LogSnapshot(Protocol):
    """Where the trustee reads the platform's log (``PlatformLog``: verified under pinned keys)."""

    def snapshot(self) -> tuple[LogEntry, ...]: ...


@dataclass
class DkgSession:
    """The live state of one epoch's DKG at this trustee (dropped once finished)."""

    session: bytes
    participant: DkgParticipant = field(repr=False)
    roster: dict[int, DkgRosterEntry]
    window: tuple[int, int]
    done: str = "commit"
    dropped: list[str] = field(default_factory=list)

    @property
    def identity_keys(self) -> dict[int, bytes]:
        return {i: e.identity_key for i, e in self.roster.items()}


def _list(body: Mapping[str, Any], key: str) -> list[Any]:
    value = body.get(key, [])
    if not isinstance(value, list):
        raise DkgRefused(f"{key} must be a list")
    return value


def _int(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise DkgRefused(f"{key} must be a non-negative integer")
    return value


class TrusteeDkg:
    """This trustee's DKG sessions, one per epoch. Thread-safe."""

    def __init__(
        self,
        store: TrusteeKeyStore,
        *,
        pinned: Mapping[str, bytes] | None = None,
        rules: EpochRules | None = None,
        log: LogSnapshot | None = None,
    ) -> None:
        self.store = store
        self.pinned = dict(pinned or {})
        self.rules = rules
        self.log = log
        self.discarded: list[int] = []  # epochs whose unlogged share was wiped for a rerun
        self.sessions: dict[int, DkgSession] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TrusteeDkg({self.store.name}, epochs={sorted(self.sessions)})"

    def roster_entry(self, index: int = 0) -> DkgRosterEntry:
        """This trustee's public keys (``index`` 0 where the roster position is not known)."""
        box = self.store.box_key().public_key()
        return DkgRosterEntry.create(index, self.store.name, self.store.identity(), box)

    def handle(self, epoch: int, phase: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if phase not in PHASES:
            raise DkgRefused(f"unknown DKG phase {phase!r}")
        logged = self._logged_keys() if phase == "commit" else None
        with self._lock:
            if phase == "commit":
                return self._commit(epoch, body, logged)
            s = self.sessions.get(epoch)
            if s is None:
                raise DkgRefused(f"no DKG session for epoch {epoch}")
            try:
                session = b64d(str(body.get("session")), length=SESSION_BYTES)
            except ValueError as exc:
                raise DkgRefused("malformed session id") from exc
            if session != s.session:
                raise DkgRefused("another DKG session is running for this epoch")
            expected = PHASES[PHASES.index(s.done) + 1]
            if phase != expected:
                raise DkgRefused(f"DKG phase {phase} out of order (next is {expected})")
            try:
                out = getattr(self, f"_{phase}")(s, body)
            except DkgError:
                self.sessions.pop(epoch, None)
                raise
            s.done = phase
            if phase == "finish":
                self.sessions.pop(epoch, None)
            return dict(out)

    # --- phases ------------------------------------------------------------------------------

    def _logged_keys(self) -> tuple[EpochKey, ...] | None:
        """Every EpochKey entry of the platform's log (None without a log to read)."""
        if self.log is None:
            return None
        try:
            entries = self.log.snapshot()
        except ValueError as exc:  # EvidenceError: unreachable or does not verify
            raise DkgRefused(f"cannot check the log before keying an epoch: {exc}") from exc
        return tuple(e for e in entries if isinstance(e, EpochKey))

    def _check_window(
        self, epoch: int, window: tuple[int, int], logged: tuple[EpochKey, ...] | None
    ) -> None:
        if window[0] >= window[1]:
            raise WindowRefused("valid_from must be before valid_until")
        if self.rules is not None and window != self.rules.window_ms(epoch):
            raise WindowRefused(
                f"validity window {list(window)} is not epoch {epoch}'s window "
                f"{list(self.rules.window_ms(epoch))} under this trustee's epoch length of "
                f"{self.rules.epoch_seconds} s"
            )
        for e in logged or ():
            if e.epoch == epoch:
                raise DkgRefused(f"epoch {epoch} is already keyed in the log (entry kept)")
            if e.valid_from < window[1] and window[0] < e.valid_until:
                raise WindowRefused(
                    f"validity window {list(window)} overlaps logged epoch {e.epoch} "
                    f"[{e.valid_from}, {e.valid_until})"
                )

    def _commit(
        self, epoch: int, body: Mapping[str, Any], logged: tuple[EpochKey, ...] | None
    ) -> dict[str, Any]:
        if self.store.is_destroyed(epoch):
            raise DkgRefused(f"{self.store.name} destroyed its share for epoch {epoch}")
        if self.store.has_share(epoch) and logged is None:
            raise DkgRefused(f"{self.store.name} already holds a share for epoch {epoch}")
        try:
            session = b64d(str(body.get("session")), length=SESSION_BYTES)
            n, t = _int(body, "n"), _int(body, "t")
            window = (_int(body, "valid_from"), _int(body, "valid_until"))
            entries = [DkgRosterEntry.from_json(e) for e in _list(body, "roster")]
            params = DkgParameters(epoch, n, t)
        except (ValueError, DkgError) as exc:
            raise DkgRefused(f"malformed DKG start: {exc}") from exc
        roster = {e.index: e for e in entries}
        if len(roster) != len(entries) or not all(1 <= i <= n for i in roster):
            raise DkgRefused("roster indices must be distinct and in 1..n")
        if len({e.name for e in entries}) != len(entries):
            raise DkgRefused("roster names must be distinct")
        for e in entries:
            pin = self.pinned.get(e.name)
            if pin is not None and pin != e.identity_key:
                raise DkgRefused(f"roster key of {e.name} differs from the pinned key")
        me = self.roster_entry()
        mine = [e for e in entries if e.identity_key == me.identity_key]
        if len(mine) != 1 or mine[0].name != me.name or mine[0].box_key != me.box_key:
            raise DkgRefused(f"the roster does not hold {me.name}'s own keys")
        self._check_window(epoch, window, logged)
        if self.store.has_share(epoch):  # finished here, but its key never reached the log
            self.store.discard_unlogged(epoch)
            self.discarded.append(epoch)
        participant = DkgParticipant(params, mine[0].index)
        self.sessions[epoch] = DkgSession(session, participant, roster, window)
        signed = SignedDkgMessage.sign(session, participant.commitment(), self.store.identity())
        return {"index": participant.index, "commitment": signed.to_json()}

    def _open_all(self, s: DkgSession, raw: list[Any], kind: type[Any]) -> list[DkgMessage]:
        out: list[DkgMessage] = []
        for obj in raw:
            try:
                msg = SignedDkgMessage.from_json(obj).open(s.session, s.identity_keys)
            except DkgError as exc:
                s.dropped.append(str(exc))
                continue
            if not isinstance(msg, kind) or msg.epoch != s.participant.params.epoch:
                s.dropped.append(f"unexpected {type(msg).__name__}")
                continue
            out.append(msg)
        return out

    def _sign(self, s: DkgSession, msg: DkgMessage) -> dict[str, str]:
        return SignedDkgMessage.sign(s.session, msg, self.store.identity()).to_json()

    def _reveal(self, s: DkgSession, body: Mapping[str, Any]) -> dict[str, Any]:
        p = s.participant
        for msg in self._open_all(s, _list(body, "commitments"), DealerCommitment):
            if msg.dealer != p.index:
                try:
                    p.receive_commitment(msg)  # type: ignore[arg-type]
                except DkgError as exc:  # an equivocating dealer: the first one counts
                    s.dropped.append(str(exc))
        reveal, shares = p.reveal()
        identity = self.store.identity()
        sealed = [
            SealedShare.seal(s.session, share, s.roster[share.recipient].box_key, identity)
            for share in shares
            if share.recipient in s.roster
        ]
        return {"reveal": self._sign(s, reveal), "shares": [x.to_json() for x in sealed]}

    def _complain(self, s: DkgSession, body: Mapping[str, Any]) -> dict[str, Any]:
        p = s.participant
        for msg in self._open_all(s, _list(body, "reveals"), DealerReveal):
            if msg.dealer != p.index:
                p.receive_reveal(msg)  # type: ignore[arg-type]
        box = self.store.box_key()
        for obj in _list(body, "shares"):
            try:
                sealed = SealedShare.from_json(obj)
                dealer = s.roster.get(sealed.dealer)
                if sealed.session != s.session or sealed.recipient != p.index or dealer is None:
                    raise DkgError("sealed share for another session, trustee or dealer")
                p.receive_share(sealed.open(box, dealer.identity_key))
            except DkgError as exc:  # a share that does not open is missing: a complaint
                s.dropped.append(str(exc))
        return {"complaints": [self._sign(s, c) for c in p.complaints()]}

    def _respond(self, s: DkgSession, body: Mapping[str, Any]) -> dict[str, Any]:
        p = s.participant
        for msg in self._open_all(s, _list(body, "complaints"), Complaint):
            p.receive_complaint(msg)  # type: ignore[arg-type]
        return {"responses": [self._sign(s, r) for r in p.responses()]}

    def _finish(self, s: DkgSession, body: Mapping[str, Any]) -> dict[str, Any]:
        p = s.participant
        for msg in self._open_all(s, _list(body, "responses"), ComplaintResponse):
            p.receive_response(msg)  # type: ignore[arg-type]
        result = p.finish()
        bundle = EpochKeyBundle.from_dkg(result, valid_from=s.window[0], valid_until=s.window[1])
        try:
            self.store.save_share(result.share)
            self.store.save_window(result.share.epoch, *s.window)
        except EscrowError as exc:
            raise DkgRefused(str(exc)) from exc
        signature = sign_epoch_key_bundle(bundle, p.index, self.store.identity())
        return {
            "index": p.index,
            "bundle": b64e(bundle.to_bytes()),
            "signature": b64e(signature.signature),
            "qualified": list(result.qualified),
            "disqualified": [[d, why] for d, why in result.disqualified],
        }

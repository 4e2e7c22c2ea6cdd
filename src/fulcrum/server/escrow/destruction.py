"""The platform's side of share destruction by remote trustees.

``collect_statements`` asks each remote trustee (``POST /epochs/{epoch}/destroy``) to destroy its
own share; each trustee decides by its own retention rule and clock and answers a signed
``ShareDestruction`` statement (``fulcrum.trustee.destruction``). A statement is accepted only if
it verifies under the trustee's PINNED identity key and names this trustee, this epoch, its share
index and the verification key of that index in the logged bundle. The council then appends one
``ShareDestroyed`` entry per accepted statement and keeps the statement (public) in
``<root>/destroyed/<epoch>/<trustee>.json``, so asking again logs nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fulcrum.escrow import EpochKeyBundle
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.signing import VerifyKey
from fulcrum.hazmat.symmetric import constant_time_equal
from fulcrum.server.escrow.coordinator import DkgCoordinator
from fulcrum.trustee.destruction import SignedDestruction, StatementInvalid


@dataclass(frozen=True)
class DestructionReport:
    """What one destruction round did: the log indices appended, and why each trustee asked did
    not destroy (e.g. ``retention_not_over``, unreachable, a statement that does not verify)."""

    indices: tuple[int, ...] = ()
    refused: dict[str, str] = field(default_factory=dict)


def statement_path(root: Path, epoch: int, name: str) -> Path:
    return root / "destroyed" / str(epoch) / f"{name}.json"


def check_statement(
    signed: SignedDestruction,
    name: str,
    index: int,
    epoch: int,
    identity: bytes,
    bundle: EpochKeyBundle,
) -> None:
    """Raise ``StatementInvalid`` unless ``signed`` is trustee ``name``'s statement that it
    destroyed its share ``index`` of ``epoch`` (the bundle's verification key)."""
    try:
        signed.verify(VerifyKey(identity))
    except CryptoError as exc:
        raise StatementInvalid("pinned identity key is malformed") from exc
    st = signed.statement
    if (st.trustee_id, st.epoch, st.share_index) != (name, epoch, index):
        raise StatementInvalid(f"statement is about {st.trustee_id}'s share {st.share_index} "
                               f"of epoch {st.epoch}")  # fmt: skip
    if not constant_time_equal(st.verification_key, bundle.verification_key(index).to_bytes()):
        raise StatementInvalid("statement names another share than the logged bundle's")


def collect_statements(
    coordinator: DkgCoordinator,
    root: Path,
    epoch: int,
    bundle: EpochKeyBundle,
    names: Sequence[str] | None = None,
) -> tuple[dict[str, SignedDestruction], dict[str, str]]:
    """Ask the trustees that have not yet destroyed their share of ``epoch``; return the checked
    statements by trustee name and the refusals."""
    pinned = coordinator.roster.load()
    ask = [p.name for p in coordinator.peers if (names is None or p.name in names)
           and not statement_path(root, epoch, p.name).exists()]  # fmt: skip
    if not ask:
        return {}, {}
    ok, failed = coordinator.post_each(f"/epochs/{epoch}/destroy", {}, ask)
    by_index = {p.index: p for p in coordinator.peers}
    refused = {by_index[i].name: why for i, why in failed.items()}
    accepted: dict[str, SignedDestruction] = {}
    for index, body in ok.items():
        name = by_index[index].name
        entry = pinned.get(name)
        try:
            if entry is None:
                raise StatementInvalid("no pinned identity key")
            signed = SignedDestruction.from_json(body)
            check_statement(signed, name, index, epoch, entry.identity_key, bundle)
        except StatementInvalid as exc:
            refused[name] = f"statement refused: {exc}"
            continue
        accepted[name] = signed
    return accepted, refused


def keep_statement(root: Path, signed: SignedDestruction) -> None:
    path = statement_path(root, signed.statement.epoch, signed.statement.trustee_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(signed.to_json(), indent=2))

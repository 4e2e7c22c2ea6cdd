"""Witnesses: cosign a log's checkpoints only along one append-only history.

Cosignatures use the C2SP tlog-cosignature format, Ed25519 flavour (https://c2sp.org/tlog-cosignature):
key type 0x04, key ID = SHA-256(name || 0x0A || 0x04 || public key)[:4], and the signature line
carries ``timestamp (u64 big-endian) || Ed25519 signature`` over
``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint note text``. The timestamp is passed in.

A ``Witness`` is pure: ``cosign`` takes the current ``WitnessState`` and returns the new state with
the cosignature. The caller must durably store the new state *before* releasing the cosignature;
then the witness can never cosign two inconsistent checkpoints of one log, nor a smaller tree after
a larger one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json, parse_json_object
from fulcrum.hazmat.signing import SigningKey, VerifyKey
from fulcrum.translog.checkpoint import Checkpoint, open_checkpoint
from fulcrum.translog.errors import (
    CheckpointError,
    CosignatureQuorumError,
    KeyFormatError,
    MalformedNoteError,
    NoteError,
    ProofError,
    RefusalReason,
    TranslogError,
    WitnessRefusal,
)
from fulcrum.translog.merkle import verify_consistency
from fulcrum.translog.note import (
    ALG_COSIGNATURE_V1,
    NoteSignature,
    Verifier,
    is_valid_key_name,
    key_id,
    parse_vkey,
    signature_for,
    std_b64encode,
)

_MAX_TIMESTAMP = (1 << 63) - 1


def cosigned_message(text: str | bytes, timestamp: int) -> bytes:
    body = text.encode("utf-8") if isinstance(text, str) else text
    return b"cosignature/v1\ntime %d\n" % timestamp + body


@dataclass(frozen=True)
class CosignatureVerifier:
    """Verifies cosignature/v1 lines of one witness key."""

    name: str
    public_key: VerifyKey

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyFormatError("invalid key name")

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignatureVerifier:
        name, _, alg, pub = parse_vkey(vkey)
        if alg != ALG_COSIGNATURE_V1:
            raise KeyFormatError("verifier key is not a cosignature/v1 key")
        return cls(name, VerifyKey(pub))

    @property
    def key_id(self) -> int:
        return key_id(self.name, ALG_COSIGNATURE_V1, self.public_key.raw)

    @property
    def vkey(self) -> str:
        raw = bytes([ALG_COSIGNATURE_V1]) + self.public_key.raw
        return f"{self.name}+{self.key_id:08x}+{std_b64encode(raw)}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 8 + 64:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            return False
        return self.public_key.is_valid(signature[8:], cosigned_message(text, timestamp))


def cosignature_timestamp(signature: NoteSignature) -> int:
    """The timestamp inside a cosignature/v1 signature line."""
    raw = signature.signature
    if len(raw) != 72:
        raise MalformedNoteError
    return int.from_bytes(raw[:8], "big")


@dataclass(frozen=True)
class _TimedCosigner:
    name: str
    key_id: int
    key: SigningKey
    timestamp: int

    def __repr__(self) -> str:
        return f"_TimedCosigner({self.name})"

    def sign(self, text: bytes) -> bytes:
        sig = self.key.sign(cosigned_message(text, self.timestamp))
        return self.timestamp.to_bytes(8, "big") + sig


@dataclass(frozen=True, repr=False)
class CosignatureSigner:
    """A witness's cosigning key (type 0x04). Its repr never shows the key."""

    name: str
    signing_key: SigningKey

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyFormatError("invalid key name")

    def __repr__(self) -> str:
        return f"CosignatureSigner({self.name}+{self.key_id:08x})"

    @classmethod
    def generate(cls, name: str) -> CosignatureSigner:
        return cls(name, SigningKey.generate())

    @property
    def key_id(self) -> int:
        return key_id(self.name, ALG_COSIGNATURE_V1, self.signing_key.public_key().raw)

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.signing_key.public_key())

    def cosign_text(self, text: str, timestamp: int) -> NoteSignature:
        if not 0 <= timestamp <= _MAX_TIMESTAMP:
            raise ValueError("timestamp out of range")
        return signature_for(
            _TimedCosigner(self.name, self.key_id, self.signing_key, timestamp), text
        )


def _uint(value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError("expected a non-negative integer")
    return value


@dataclass(frozen=True)
class TreeHead:
    """The last checkpoint a witness cosigned for one log."""

    size: int
    root_hash: bytes
    timestamp: int


@dataclass(frozen=True)
class WitnessState:
    """Last cosigned tree head per log origin. Persist with ``to_bytes`` / ``from_bytes``."""

    heads: tuple[tuple[str, TreeHead], ...] = ()

    def head(self, origin: str) -> TreeHead | None:
        return next((h for o, h in self.heads if o == origin), None)

    def with_head(self, origin: str, head: TreeHead) -> WitnessState:
        rest = [(o, h) for o, h in self.heads if o != origin]
        return WitnessState(tuple(sorted([*rest, (origin, head)], key=lambda p: p[0])))

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                o: {"size": h.size, "root_hash": b64e(h.root_hash), "timestamp": h.timestamp}
                for o, h in self.heads
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> WitnessState:
        try:
            obj = parse_json_object(data)
            heads = [
                (
                    o,
                    TreeHead(
                        _uint(v["size"]), b64d(v["root_hash"], length=32), _uint(v["timestamp"])
                    ),
                )
                for o, v in obj.items()
            ]
        except (EncodingError, KeyError, TypeError, ValueError) as exc:
            raise TranslogError("malformed witness state") from exc
        return cls(tuple(sorted(heads, key=lambda p: p[0])))


@dataclass(frozen=True)
class Cosigned:
    """The result of a successful ``Witness.cosign``: new state first, then the cosignature."""

    state: WitnessState
    checkpoint: Checkpoint
    signature: NoteSignature


def _origin_of(note: bytes) -> str:
    first, sep, _ = note.partition(b"\n")
    try:
        return first.decode("utf-8") if sep else ""
    except UnicodeDecodeError:
        return ""


class Witness:
    """Cosigns checkpoints of known logs after checking consistency with its last cosigned one."""

    def __init__(self, signer: CosignatureSigner, logs: Iterable[Verifier]) -> None:
        self.signer = signer
        self._logs = {v.name: v for v in logs}

    def cosign(
        self,
        state: WitnessState,
        note: bytes,
        proof: Sequence[bytes],
        timestamp: int,
        old_size: int | None = None,
    ) -> Cosigned:
        """Check ``note`` against ``state`` and cosign it, or raise ``WitnessRefusal``.

        ``proof`` is a consistency proof from the last cosigned size for this log (empty for the
        first checkpoint seen or for an unchanged tree). ``old_size`` is the size the caller
        believes we last cosigned (as in the C2SP tlog-witness protocol); a mismatch is a CONFLICT
        whose ``known_size`` tells the caller which proof to send.
        """
        origin = _origin_of(note)
        log = self._logs.get(origin)
        if log is None:
            raise WitnessRefusal(RefusalReason.UNKNOWN_LOG, f"unknown log origin {origin!r}")
        try:
            signed = open_checkpoint(note, log)
        except MalformedNoteError as exc:
            raise WitnessRefusal(RefusalReason.MALFORMED, str(exc)) from exc
        except (NoteError, CheckpointError) as exc:
            raise WitnessRefusal(RefusalReason.BAD_LOG_SIGNATURE, str(exc)) from exc
        checkpoint = signed.checkpoint
        prev = state.head(origin)
        known = prev.size if prev is not None else 0
        if old_size is not None and old_size != known:
            raise WitnessRefusal(RefusalReason.CONFLICT, f"last cosigned size is {known}", known)
        if not 0 <= timestamp <= _MAX_TIMESTAMP:
            raise WitnessRefusal(RefusalReason.MALFORMED, "timestamp out of range", known)
        if prev is not None:
            self._check_append_only(prev, checkpoint, proof)
            if timestamp < prev.timestamp:
                raise WitnessRefusal(
                    RefusalReason.STALE_TIME, "timestamp before our last cosignature", known
                )
        elif proof:
            raise WitnessRefusal(RefusalReason.MALFORMED, "no proof expected for a new log", 0)
        signature = self.signer.cosign_text(signed.note.text, timestamp)
        head = TreeHead(checkpoint.size, checkpoint.root_hash, timestamp)
        return Cosigned(state.with_head(origin, head), checkpoint, signature)

    @staticmethod
    def _check_append_only(prev: TreeHead, new: Checkpoint, proof: Sequence[bytes]) -> None:
        if new.size < prev.size:
            raise WitnessRefusal(
                RefusalReason.ROLLBACK,
                f"tree of size {new.size} after cosigning size {prev.size}",
                prev.size,
            )
        if new.size == prev.size:
            if new.root_hash != prev.root_hash:
                raise WitnessRefusal(
                    RefusalReason.SPLIT_VIEW, f"two roots for size {new.size}", prev.size
                )
            if proof:
                raise WitnessRefusal(RefusalReason.MALFORMED, "unexpected proof", prev.size)
            return
        if prev.size == 0:
            if proof:
                raise WitnessRefusal(RefusalReason.MALFORMED, "unexpected proof", 0)
            return
        try:
            verify_consistency(prev.size, new.size, proof, prev.root_hash, new.root_hash)
        except ProofError as exc:
            raise WitnessRefusal(RefusalReason.INCONSISTENT, str(exc), prev.size) from exc


def add_signatures(note: bytes, signatures: Iterable[NoteSignature]) -> bytes:
    """Append signature lines (e.g. cosignatures) to a signed note, skipping exact duplicates."""
    if not note.endswith(b"\n"):
        raise MalformedNoteError
    existing = set(note.split(b"\n"))
    extra = [s.line().encode("utf-8") for s in signatures]
    return note + b"".join(line for line in dict.fromkeys(extra) if line[:-1] not in existing)


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A checkpoint verified under the log key with a quorum of witness cosignatures."""

    checkpoint: Checkpoint
    witnesses: tuple[str, ...]
    timestamps: tuple[int, ...]


def verify_cosigned_checkpoint(
    note: bytes,
    log_verifier: Verifier,
    witness_verifiers: Sequence[CosignatureVerifier],
    min_witnesses: int = 2,
) -> CosignedCheckpoint:
    """Open a checkpoint and require ``min_witnesses`` distinct witness keys to have cosigned it.

    Raises ``CosignatureQuorumError`` (a ``CheckpointError``) if the quorum is not met, and
    ``NoteError`` if the note is malformed or any signature by a known key is invalid.
    """
    if min_witnesses < 1:
        raise ValueError("min_witnesses must be at least 1")
    opened = open_checkpoint(note, log_verifier, witness_verifiers)
    by_id = {(w.name, w.key_id): w for w in witness_verifiers}
    names: list[str] = []
    times: list[int] = []
    keys: set[bytes] = set()
    for sig in opened.note.signatures:
        w = by_id.get((sig.name, sig.key_id))
        if w is None or w.public_key.raw in keys:
            continue
        keys.add(w.public_key.raw)
        names.append(sig.name)
        times.append(cosignature_timestamp(sig))
    if len(keys) < min_witnesses:
        raise CosignatureQuorumError(
            f"checkpoint has {len(keys)} valid witness cosignatures, {min_witnesses} required"
        )
    return CosignedCheckpoint(opened.checkpoint, tuple(names), tuple(times))

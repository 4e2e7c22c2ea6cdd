"""RFC 9497 VOPRF, ciphersuite ristretto255-SHA512, through the ``voprf`` package.

Byte strings only cross this boundary: blinded elements (32 bytes each), an evaluation response
(``proof (64 bytes) || evaluated elements (32 bytes each)``, the ``voprf`` wire format) and outputs
(64 bytes). Every failure — a malformed element, a wrong count, a proof that does not verify under
the given public key — raises the opaque ``CryptoError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from voprf import ristretto as _vr

from fulcrum.hazmat.errors import CryptoError

ELEMENT_BYTES = 32
PROOF_BYTES = 64
OUTPUT_BYTES = 64
SEED_BYTES = 32
MAX_BATCH = 0xFFFF


def _is_binding_failure(exc: BaseException) -> bool:
    """voprf 0.2.0 signals some failures (e.g. a batch proof that does not verify) with a Rust
    panic, surfaced as ``pyo3_runtime.PanicException`` — a ``BaseException``, not an
    ``Exception``. Treat those as crypto failures; let KeyboardInterrupt/SystemExit through."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _public_key(raw: bytes) -> _vr.PublicKey:
    if len(raw) != ELEMENT_BYTES:
        raise CryptoError
    try:
        return _vr.PublicKey.deserialize(raw)
    except BaseException as exc:
        if not _is_binding_failure(exc):
            raise
        raise CryptoError from None


class OprfKey:
    """The evaluator's (custodian's) secret VOPRF key, derived with RFC 9497 DeriveKeyPair."""

    __slots__ = ("_evaluator",)

    def __init__(self, evaluator: _vr.Evaluator) -> None:
        self._evaluator = evaluator

    @classmethod
    def from_seed(cls, seed: bytes, info: bytes) -> OprfKey:
        if len(seed) != SEED_BYTES:
            raise CryptoError
        try:
            return cls(_vr.Evaluator.from_seed(seed, info))
        except BaseException as exc:
            if not _is_binding_failure(exc):
                raise
            raise CryptoError from None

    def __repr__(self) -> str:  # never print key material
        return f"OprfKey(public={self.public_key.hex()[:16]}...)"

    @property
    def public_key(self) -> bytes:
        return bytes(self._evaluator.public_key.serialize())

    def evaluate_batch(self, blinded: Sequence[bytes]) -> bytes:
        """BlindEvaluate a batch with one DLEQ proof; returns ``proof || elements``."""
        if not 1 <= len(blinded) <= MAX_BATCH:
            raise CryptoError
        try:
            inputs = [_vr.BlindedInput.deserialize(b) for b in blinded]
            if len(inputs) == 1:
                return bytes(self._evaluator.evaluate(inputs[0]).serialize())
            return bytes(self._evaluator.evaluate_batch(inputs).serialize())
        except BaseException as exc:
            if not _is_binding_failure(exc):
                raise
            raise CryptoError from None

    def evaluate_known_input(self, value: bytes) -> bytes:
        """The unblinded PRF output for an input the evaluator knows (RFC 9497 Evaluate)."""
        if not 1 <= len(value) <= MAX_BATCH:
            raise CryptoError
        try:
            return bytes(self._evaluator.evaluate_known_input(value))
        except BaseException as exc:
            if not _is_binding_failure(exc):
                raise
            raise CryptoError from None


@dataclass(frozen=True)
class BlindedBatch:
    """Client state of one batched VOPRF round: the blinds stay here, ``elements`` go out."""

    elements: tuple[bytes, ...]
    _clients: tuple[_vr.Client, ...] = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return f"BlindedBatch(n={len(self.elements)})"

    def finalize(self, response: bytes, public_key: bytes) -> list[bytes]:
        """Verify the batch proof under ``public_key`` and unblind (``CryptoError`` on failure)."""
        n = len(self._clients)
        if len(response) != PROOF_BYTES + n * ELEMENT_BYTES:
            raise CryptoError
        pk = _public_key(public_key)
        try:
            if n == 1:
                out = _vr.VerifiableOutput.deserialize(response)
                return [bytes(self._clients[0].finalize(out, pk))]
            batch = _vr.VerifiableBatchOutput.deserialize(response)
            return [bytes(y) for y in _vr.Client.finalize_batch(list(self._clients), batch, pk)]
        except BaseException as exc:
            if not _is_binding_failure(exc):
                raise
            raise CryptoError from None


def blind_batch(inputs: Sequence[bytes]) -> BlindedBatch:
    """Blind each input with a fresh random scalar (RFC 9497 Blind)."""
    if not 1 <= len(inputs) <= MAX_BATCH:
        raise CryptoError
    clients: list[_vr.Client] = []
    elements: list[bytes] = []
    try:
        for value in inputs:
            if not 1 <= len(value) <= MAX_BATCH:
                raise CryptoError
            client, blinded = _vr.Client.blind(value)
            clients.append(client)
            elements.append(bytes(blinded.serialize()))
    except CryptoError:
        raise
    except BaseException as exc:
        if not _is_binding_failure(exc):
            raise
        raise CryptoError from None
    return BlindedBatch(tuple(elements), tuple(clients))


def is_valid_element(data: bytes) -> bool:
    """True when ``data`` decodes as a blinded element the evaluator accepts."""
    if len(data) != ELEMENT_BYTES:
        return False
    try:
        _vr.BlindedInput.deserialize(data)
    except BaseException as exc:
        if not _is_binding_failure(exc):
            raise
        return False
    return True

"""Wire models of the transparency log (role ``log``) and the escrow epoch key (v1).

Byte strings are base64url without padding; checkpoint notes travel as their text.
"""

from __future__ import annotations

from pydantic import Field

from fulcrum.wire.api import B64, WireModel

MAX_ENTRIES_PER_PAGE = 1000


class LogKeys(WireModel):
    """The log's note verifier key and its witnesses' cosignature verifier keys (vkey strings).

    Clients and auditors must pin these out of band; fetching them is trust on first use."""

    origin: str
    log_vkey: str
    witness_vkeys: list[str]
    min_witnesses: int = Field(ge=1)


class LogEntries(WireModel):
    start: int = Field(ge=0)
    entries: list[B64]  # canonical entry bytes, in log order from ``start``


class InclusionProofOut(WireModel):
    index: int = Field(ge=0)
    size: int = Field(ge=1)
    leaf_hash: B64
    proof: list[B64]


class ConsistencyProofOut(WireModel):
    from_size: int = Field(ge=0)
    to_size: int = Field(ge=0)
    proof: list[B64]


class EpochKeySignatureOut(WireModel):
    trustee_index: int = Field(ge=1)
    signature: B64


class EpochKeyOut(WireModel):
    """An epoch key with everything a client needs to accept it.

    ``bundle`` is the canonical ``EpochKeyBundle`` bytes; ``trustee_keys`` are the trustees'
    Ed25519 keys by index (1..n) in order; ``log_index`` is the ``EpochKey`` entry's index and
    ``entry`` its bytes; ``inclusion`` proves it in ``checkpoint`` (a cosigned note)."""

    epoch: int = Field(ge=0)
    bundle: B64
    signatures: list[EpochKeySignatureOut]
    trustee_names: list[str]
    trustee_keys: list[B64]
    log_index: int = Field(ge=0)
    entry: B64
    inclusion: list[B64]
    checkpoint: str

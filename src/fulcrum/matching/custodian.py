"""The custodian's role: per-epoch VOPRF key, batch evaluation, tag table, signed manifest.

custodian = Custodian(master_secret, signing_key)
release = custodian.publish_epoch(epoch, entries, ...)   # manifest + tag table + evaluator
release.manifest.cosigned(source, source_key)             # each source co-signs
response = release.evaluator.evaluate_batch(request)      # per client request, via platform
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fulcrum.encoding import domain_message
from fulcrum.hazmat import oprf
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.signing import SigningKey
from fulcrum.hazmat.symmetric import hkdf_sha256, hmac_sha256
from fulcrum.matching.bank import BankEntry
from fulcrum.matching.errors import VoucherFormatError
from fulcrum.matching.lsh import (
    DEFAULT_ACCOUNT_THRESHOLD,
    DEFAULT_K,
    DEFAULT_M,
    DEFAULT_REVIEW_CAPACITY,
    DEFAULT_S,
    MatchingParams,
    lsh_keys_from_bits,
)
from fulcrum.matching.manifest import BankManifest, merkle_root
from fulcrum.matching.tagtable import TableEntry, TagTable
from fulcrum.matching.voucher import voucher_key, voucher_tag
from fulcrum.matching.wire import (
    MAX_VARIANTS,
    encode_evaluation_response,
    parse_evaluation_request,
)


def _u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


class CustodianEvaluator:
    """The VOPRF evaluator of one epoch. Holds the epoch's secret key: never log it."""

    __slots__ = ("_key", "max_batch", "params_epoch")

    def __init__(self, epoch: int, key: oprf.OprfKey, max_batch: int) -> None:
        self.params_epoch = epoch
        self._key = key
        self.max_batch = max_batch

    def __repr__(self) -> str:
        return f"CustodianEvaluator(epoch={self.params_epoch})"

    @property
    def public_key(self) -> bytes:
        return self._key.public_key

    def evaluate_batch(self, request: bytes) -> bytes:
        """Evaluate one client's blinded batch; returns the response frame (proof included)."""
        epoch, elements = parse_evaluation_request(request, max_elements=self.max_batch)
        if epoch != self.params_epoch:
            raise VoucherFormatError(f"request is for epoch {epoch}, not {self.params_epoch}")
        try:
            body = self._key.evaluate_batch(elements)
        except CryptoError as exc:
            raise VoucherFormatError("request holds an invalid group element") from exc
        return encode_evaluation_response(epoch, len(elements), body)

    def evaluate_known_input(self, value: bytes) -> bytes:
        return self._key.evaluate_known_input(value)


def build_tag_table(
    evaluator: CustodianEvaluator, entries: Sequence[BankEntry], params: MatchingParams
) -> TagTable:
    """Compute y_j = PRF(key_j) for every entry and j (m evaluations per entry)."""
    n = len(entries) * params.m
    tags = np.empty(n, dtype=np.uint64)
    rows_entry = np.repeat(np.arange(len(entries), dtype=np.uint32), params.m)
    j = np.tile(np.arange(params.m, dtype=np.uint16), len(entries))
    keys = np.empty((n, 32), dtype=np.uint8)
    row = 0
    for entry in entries:
        bits = np.unpackbits(np.frombuffer(entry.pdq, dtype=np.uint8))
        for key in lsh_keys_from_bits(bits, params):
            y = evaluator.evaluate_known_input(key)
            tags[row] = int.from_bytes(voucher_tag(y), "big")
            keys[row] = np.frombuffer(voucher_key(y), dtype=np.uint8)
            row += 1
    table_entries = [TableEntry(e.entry_id, e.pdq) for e in entries]
    return TagTable(params.epoch, table_entries, tags, rows_entry, j, keys)


def commitment_leaf(entry: BankEntry, salt: bytes) -> bytes:
    """Salted commitment to (entry id, PDQ, sources): hides the hash from log readers, opens
    to auditors who are given the salt."""
    return domain_message(
        "fulcrum/match/entry-commitment/v1",
        salt,
        entry.entry_id.encode(),
        entry.pdq,
        "\n".join(entry.sources).encode(),
    )


@dataclass(frozen=True)
class EpochRelease:
    """Everything one epoch produces: the (custodian-signed) manifest for the log and the
    clients, the tag table for the platform, and the evaluator the custodian keeps."""

    manifest: BankManifest
    tag_table: TagTable = field(repr=False)
    evaluator: CustodianEvaluator = field(repr=False)
    entries: tuple[BankEntry, ...] = field(repr=False)


class Custodian:
    """Holds the custodian's master secret (VOPRF keys, LSH seeds and salts derive from it per
    epoch) and its Ed25519 manifest-signing key."""

    __slots__ = ("_master", "_signing_key")

    def __init__(self, master_secret: bytes, signing_key: SigningKey) -> None:
        if len(master_secret) != 32:
            raise ValueError("the custodian master secret is 32 bytes")
        self._master = master_secret
        self._signing_key = signing_key

    def __repr__(self) -> str:
        return "Custodian(<secret>)"

    def _derive(self, label: str, epoch: int) -> bytes:
        info = domain_message(label, _u64(epoch))
        return hkdf_sha256(self._master, salt=None, info=info, length=32)

    def evaluator(self, epoch: int, m: int = DEFAULT_M) -> CustodianEvaluator:
        seed = self._derive("fulcrum/match/voprf-seed/v1", epoch)
        info = domain_message("fulcrum/match/voprf-info/v1", _u64(epoch))
        return CustodianEvaluator(epoch, oprf.OprfKey.from_seed(seed, info), MAX_VARIANTS * m)

    def lsh_seed(self, epoch: int) -> bytes:
        return self._derive("fulcrum/match/lsh-seed/v1", epoch)

    def commitment_salt(self, epoch: int, entry_id: str) -> bytes:
        return hmac_sha256(self._derive("fulcrum/match/salt/v1", epoch), entry_id.encode())

    def publish_epoch(
        self,
        epoch: int,
        entries: Sequence[BankEntry],
        *,
        k: int = DEFAULT_K,
        m: int = DEFAULT_M,
        s: int = DEFAULT_S,
        account_threshold: int = DEFAULT_ACCOUNT_THRESHOLD,
        review_capacity: int = DEFAULT_REVIEW_CAPACITY,
    ) -> EpochRelease:
        """Rotate to ``epoch``: new VOPRF key and LSH seed, rebuilt tag table, signed manifest."""
        ids = [e.entry_id for e in entries]
        if len(set(ids)) != len(ids):
            raise ValueError("entry ids must be unique across banks")
        params = MatchingParams(
            epoch, self.lsh_seed(epoch), k, m, s, account_threshold, review_capacity
        )
        evaluator = self.evaluator(epoch, m)
        ordered = tuple(sorted(entries, key=lambda e: e.entry_id))
        table = build_tag_table(evaluator, ordered, params)
        leaves = [commitment_leaf(e, self.commitment_salt(epoch, e.entry_id)) for e in ordered]
        manifest = BankManifest(
            epoch=epoch,
            voprf_public_key=evaluator.public_key,
            lsh_seed=params.lsh_seed,
            k=k,
            m=m,
            s=s,
            account_threshold=account_threshold,
            review_capacity=review_capacity,
            entry_count=len(ordered),
            commitment_root=merkle_root(leaves),
            tag_table_root=table.root(),
            custodian_key=self._signing_key.public_key().raw,
        ).signed_by_custodian(self._signing_key)
        return EpochRelease(manifest, table, evaluator, ordered)

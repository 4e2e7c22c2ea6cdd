"""Canonical binary encodings: evaluation request/response, voucher bundle, sealed payload.

All integers are big-endian. Every parser checks the magic, the version, each length and the
total length against the epoch's parameters, and raises ``VoucherFormatError`` on any deviation.

Evaluation request:  "FMEQ" | epoch u64 | n u16 | n x element(32)
Evaluation response: "FMER" | epoch u64 | n u16 | proof(64) | n x element(32)
Voucher bundle:      "FMVB" | version u8 | epoch u64 | m u16 | variants u8 | payload_len u32
                     | variants x ( nonce(12) | m x ( tag(8) | box(32) ) | payload(payload_len) )
Payload plaintext:   pdq(32) | generation u32 | x(16) | y_g(16) | y_g-1(16) | wrap_g(60)
                     | wrap_g-1(60) | review_len u32 | review(capacity) zero-padded | review tag(16)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from fulcrum.hazmat.oprf import ELEMENT_BYTES, PROOF_BYTES
from fulcrum.matching.account import WRAP_BYTES, AccountShares
from fulcrum.matching.errors import VoucherFormatError
from fulcrum.matching.lsh import MatchingParams
from fulcrum.matching.pdq import PDQ_BYTES

BUNDLE_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 8
BOX_BYTES = 16 + 16  # one 16-byte share + AEAD tag
VOUCHER_BYTES = TAG_BYTES + BOX_BYTES
AEAD_TAG_BYTES = 16
MAX_VARIANTS = 2
_BUNDLE_HEAD = struct.Struct(">4sBQHBI")
_EVAL_HEAD = struct.Struct(">4sQH")


def payload_plain_bytes(params: MatchingParams) -> int:
    return PDQ_BYTES + 4 + 3 * 16 + 2 * WRAP_BYTES + 4 + params.review_capacity + AEAD_TAG_BYTES


def payload_sealed_bytes(params: MatchingParams) -> int:
    return payload_plain_bytes(params) + AEAD_TAG_BYTES


def variant_bytes(params: MatchingParams) -> int:
    return NONCE_BYTES + params.m * VOUCHER_BYTES + payload_sealed_bytes(params)


def bundle_bytes(params: MatchingParams, variants: int) -> int:
    return _BUNDLE_HEAD.size + variants * variant_bytes(params)


# -- evaluation request / response ------------------------------------------------------------


def encode_evaluation_request(epoch: int, elements: list[bytes]) -> bytes:
    return _EVAL_HEAD.pack(b"FMEQ", epoch, len(elements)) + b"".join(elements)


def parse_evaluation_request(data: bytes, *, max_elements: int) -> tuple[int, list[bytes]]:
    _, epoch, n = _unpack_head(_EVAL_HEAD, data, b"FMEQ")
    if not 1 <= n <= max_elements:
        raise VoucherFormatError(
            f"evaluation request holds {n} elements; 1..{max_elements} allowed"
        )
    _expect_len(data, _EVAL_HEAD.size + n * ELEMENT_BYTES)
    body = data[_EVAL_HEAD.size :]
    return epoch, [body[i : i + ELEMENT_BYTES] for i in range(0, len(body), ELEMENT_BYTES)]


def encode_evaluation_response(epoch: int, n: int, proof_and_elements: bytes) -> bytes:
    return _EVAL_HEAD.pack(b"FMER", epoch, n) + proof_and_elements


def parse_evaluation_response(data: bytes, *, epoch: int, n: int) -> bytes:
    """Return ``proof || elements`` after checking the frame matches the request."""
    _, got_epoch, got_n = _unpack_head(_EVAL_HEAD, data, b"FMER")
    if got_epoch != epoch or got_n != n:
        raise VoucherFormatError("evaluation response is for another epoch or batch size")
    _expect_len(data, _EVAL_HEAD.size + PROOF_BYTES + n * ELEMENT_BYTES)
    return data[_EVAL_HEAD.size :]


# -- voucher bundle ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Voucher:
    tag: bytes
    box: bytes = field(repr=False)


@dataclass(frozen=True)
class VariantVouchers:
    """The m vouchers and the sealed payload of one hashed variant (real or dummy)."""

    nonce: bytes
    vouchers: tuple[Voucher, ...]
    payload: bytes = field(repr=False)


@dataclass(frozen=True)
class VoucherBundle:
    epoch: int
    variants: tuple[VariantVouchers, ...]

    def to_bytes(self) -> bytes:
        if not self.variants:
            raise VoucherFormatError("a bundle holds at least one variant")
        m = len(self.variants[0].vouchers)
        plen = len(self.variants[0].payload)
        out = [_BUNDLE_HEAD.pack(b"FMVB", BUNDLE_VERSION, self.epoch, m, len(self.variants), plen)]
        for v in self.variants:
            if len(v.vouchers) != m or len(v.payload) != plen or len(v.nonce) != NONCE_BYTES:
                raise VoucherFormatError("variants differ in shape")
            out.append(v.nonce)
            out.extend(vo.tag + vo.box for vo in v.vouchers)
            out.append(v.payload)
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes, params: MatchingParams) -> VoucherBundle:
        epoch, m, nvar, plen = _check_bundle_head(data, params)
        variants: list[VariantVouchers] = []
        pos = _BUNDLE_HEAD.size
        for _ in range(nvar):
            nonce = data[pos : pos + NONCE_BYTES]
            pos += NONCE_BYTES
            vouchers = []
            for _ in range(m):
                vouchers.append(
                    Voucher(
                        data[pos : pos + TAG_BYTES], data[pos + TAG_BYTES : pos + VOUCHER_BYTES]
                    )
                )
                pos += VOUCHER_BYTES
            variants.append(VariantVouchers(nonce, tuple(vouchers), data[pos : pos + plen]))
            pos += plen
        return cls(epoch, tuple(variants))


def _check_bundle_head(data: bytes, params: MatchingParams) -> tuple[int, int, int, int]:
    if len(data) < _BUNDLE_HEAD.size:
        raise VoucherFormatError("voucher bundle too short")
    magic, version, epoch, m, nvar, plen = _BUNDLE_HEAD.unpack_from(data)
    if magic != b"FMVB" or version != BUNDLE_VERSION:
        raise VoucherFormatError("not a version-1 voucher bundle")
    if epoch != params.epoch:
        raise VoucherFormatError(f"bundle is for epoch {epoch}, expected {params.epoch}")
    if m != params.m or plen != payload_sealed_bytes(params):
        raise VoucherFormatError("bundle shape does not match the epoch parameters")
    if not 1 <= nvar <= MAX_VARIANTS:
        raise VoucherFormatError(f"bundle holds {nvar} variants; 1..{MAX_VARIANTS} allowed")
    _expect_len(data, bundle_bytes(params, nvar))
    return epoch, m, nvar, plen


@dataclass(frozen=True)
class VariantView:
    """One variant read in place (no per-voucher objects): the platform's fast path."""

    nonce: bytes
    tags: np.ndarray = field(repr=False)  # (m,) uint64: tag_j as a big-endian integer
    data: bytes = field(repr=False)  # the whole bundle
    offset: int  # of voucher 0 in ``data``
    payload: bytes = field(repr=False)

    def box(self, j: int) -> bytes:
        start = self.offset + j * VOUCHER_BYTES + TAG_BYTES
        return self.data[start : start + BOX_BYTES]


def parse_bundle_views(data: bytes, params: MatchingParams) -> tuple[VariantView, ...]:
    """The variants of a bundle with the same checks as ``VoucherBundle.from_bytes``."""
    _, m, nvar, plen = _check_bundle_head(data, params)
    out = []
    pos = _BUNDLE_HEAD.size
    for _ in range(nvar):
        nonce = data[pos : pos + NONCE_BYTES]
        pos += NONCE_BYTES
        rows = np.frombuffer(data, dtype=np.uint8, count=m * VOUCHER_BYTES, offset=pos)
        tags = rows.reshape(m, VOUCHER_BYTES)[:, :TAG_BYTES].copy().view(">u8").ravel()
        end = pos + m * VOUCHER_BYTES
        out.append(VariantView(nonce, tags.astype(np.uint64), data, pos, data[end : end + plen]))
        pos = end + plen
    return tuple(out)


# -- payload plaintext ------------------------------------------------------------------------


@dataclass(frozen=True)
class PayloadContents:
    pdq: bytes
    shares: AccountShares
    review_sealed: bytes = field(repr=False)  # u32 length | padded material | tag, under rk

    def to_bytes(self) -> bytes:
        s = self.shares
        return b"".join(
            [
                self.pdq,
                s.generation.to_bytes(4, "big"),
                s.x.to_bytes(16, "big"),
                s.y_current,
                s.y_previous,
                s.wrap_current,
                s.wrap_previous,
                self.review_sealed,
            ]
        )

    @classmethod
    def from_bytes(cls, data: bytes, params: MatchingParams) -> PayloadContents:
        _expect_len(data, payload_plain_bytes(params))
        pos = 0

        def take(n: int) -> bytes:
            nonlocal pos
            pos += n
            return data[pos - n : pos]

        pdq = take(PDQ_BYTES)
        generation = int.from_bytes(take(4), "big")
        x = int.from_bytes(take(16), "big")
        if x == 0 or generation == 0:
            raise VoucherFormatError("payload share index or generation is zero")
        shares = AccountShares(
            generation, x, take(16), take(16), take(WRAP_BYTES), take(WRAP_BYTES)
        )
        return cls(pdq, shares, data[pos:])


def _unpack_head(head: struct.Struct, data: bytes, magic: bytes) -> tuple[bytes, int, int]:
    if len(data) < head.size:
        raise VoucherFormatError("message too short")
    got, epoch, n = head.unpack_from(data)
    if got != magic:
        raise VoucherFormatError(f"expected a {magic.decode()} message")
    return got, epoch, n


def _expect_len(data: bytes, expected: int) -> None:
    if len(data) != expected:
        raise VoucherFormatError(f"expected {expected} bytes, got {len(data)}")

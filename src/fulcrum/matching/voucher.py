"""Client send path: hash an outgoing image, blind its LSH keys, and — after the caller has
relayed the evaluation request to the custodian (via the platform) — seal the voucher bundle.

    pending = prepare_image_vouchers(image_bytes, manifest, trust, account_key, review, now)
    response = <relay pending.evaluation_request to the custodian, get bytes back>
    bundle_bytes = finalize_image_vouchers(pending, response)

No I/O, no clock: time is ``now`` (Unix seconds). The client never learns whether it matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fulcrum.encoding import domain_message
from fulcrum.hazmat import oprf, shamir
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.symmetric import aes256gcm_seal, hkdf_sha256, random_bytes, sha512
from fulcrum.matching.account import AccountMatchingKey
from fulcrum.matching.errors import EvaluationRejected, VoucherFormatError
from fulcrum.matching.lsh import MatchingParams, lsh_keys
from fulcrum.matching.manifest import BankManifest, ManifestTrust
from fulcrum.matching.pdq import PdqHash, hash_image_bytes
from fulcrum.matching.wire import (
    BOX_BYTES,
    MAX_VARIANTS,
    NONCE_BYTES,
    TAG_BYTES,
    PayloadContents,
    VariantVouchers,
    Voucher,
    VoucherBundle,
    encode_evaluation_request,
    parse_evaluation_response,
    payload_sealed_bytes,
)

_ZERO_NONCE = bytes(NONCE_BYTES)


def voucher_tag(y: bytes) -> bytes:
    """tag_j: the first 8 bytes of H("tag" || y_j)."""
    return sha512(domain_message("fulcrum/match/tag/v1", y))[:TAG_BYTES]


def voucher_key(y: bytes) -> bytes:
    """The AEAD key of voucher j: H("key" || y_j), 32 bytes."""
    return sha512(domain_message("fulcrum/match/key/v1", y))[:32]


def voucher_aad(epoch: int, j: int) -> bytes:
    return domain_message(
        "fulcrum/match/voucher/v1", epoch.to_bytes(8, "big"), j.to_bytes(2, "big")
    )


def payload_key(r_img: bytes) -> bytes:
    return hkdf_sha256(r_img, salt=None, info=b"fulcrum/match/payload/v1", length=32)


def payload_aad(epoch: int) -> bytes:
    return domain_message("fulcrum/match/payload/v1", epoch.to_bytes(8, "big"))


def review_aad(epoch: int) -> bytes:
    return domain_message("fulcrum/match/review/v1", epoch.to_bytes(8, "big"))


@dataclass(frozen=True)
class PendingVouchers:
    """State between the two client steps. Holds secrets: never log or persist it."""

    manifest: BankManifest
    hashes: tuple[PdqHash | None, ...]  # None: a dummy variant (quality < 50 or padding)
    evaluation_request: bytes
    _blinded: oprf.BlindedBatch = field(repr=False)
    _account_key: AccountMatchingKey = field(repr=False)
    _review_material: bytes = field(repr=False)
    _now: int = field(repr=False)

    def __repr__(self) -> str:
        return f"PendingVouchers(epoch={self.manifest.epoch}, variants={len(self.hashes)})"


def prepare_image_vouchers(
    image: bytes,
    manifest: BankManifest,
    trust: ManifestTrust,
    account_key: AccountMatchingKey,
    review_material: bytes,
    now: int,
    *,
    pad_variants: bool = False,
) -> PendingVouchers:
    """Step 1 for an image file: decode, hash (+ border-trimmed variant), blind the LSH keys.

    ``pad_variants`` always sends two variants (a dummy when there was no border), hiding
    whether the image had a uniform border at the cost of a second VOPRF batch."""
    hashes = hash_image_bytes(image)
    return prepare_hash_vouchers(
        hashes, manifest, trust, account_key, review_material, now, pad_variants=pad_variants
    )


def prepare_hash_vouchers(
    hashes: Sequence[PdqHash],
    manifest: BankManifest,
    trust: ManifestTrust,
    account_key: AccountMatchingKey,
    review_material: bytes,
    now: int,
    *,
    pad_variants: bool = False,
) -> PendingVouchers:
    """Step 1 for already-computed PDQ hashes (the first is the image as sent)."""
    manifest.verify(trust)
    params = manifest.params
    if not 1 <= len(hashes) <= MAX_VARIANTS:
        raise ValueError(f"1..{MAX_VARIANTS} hashes per image")
    if len(review_material) > params.review_capacity:
        raise ValueError(f"review material exceeds {params.review_capacity} bytes")
    chosen: list[PdqHash | None] = [h if h.usable else None for h in hashes]
    if pad_variants and len(chosen) < MAX_VARIANTS:
        chosen.append(None)
    inputs: list[bytes] = []
    for h in chosen:
        if h is None:  # same count and size of blinded elements as a real variant
            inputs.extend(random_bytes(params.key_bytes) for _ in range(params.m))
        else:
            inputs.extend(lsh_keys(h, params))
    try:
        blinded = oprf.blind_batch(inputs)
    except CryptoError as exc:
        raise VoucherFormatError("cannot blind the LSH keys") from exc
    request = encode_evaluation_request(params.epoch, list(blinded.elements))
    return PendingVouchers(
        manifest=manifest,
        hashes=tuple(chosen),
        evaluation_request=request,
        _blinded=blinded,
        _account_key=account_key,
        _review_material=review_material,
        _now=now,
    )


def finalize_image_vouchers(pending: PendingVouchers, evaluation_response: bytes) -> bytes:
    """Step 2: verify the custodian's batch proof under the manifest key, seal the bundle."""
    manifest = pending.manifest
    params = manifest.params
    n = len(pending._blinded.elements)
    body = parse_evaluation_response(evaluation_response, epoch=params.epoch, n=n)
    try:
        outputs = pending._blinded.finalize(body, manifest.voprf_public_key)
    except CryptoError as exc:
        raise EvaluationRejected(
            "the evaluation proof does not verify under the manifest key"
        ) from exc
    m = params.m
    per_variant = [
        None if h is None else outputs[i * m : (i + 1) * m] for i, h in enumerate(pending.hashes)
    ]
    return seal_image_vouchers(
        pending.hashes,
        per_variant,
        params,
        pending._account_key,
        pending._review_material,
        pending._now,
    )


def seal_image_vouchers(
    hashes: Sequence[PdqHash | None],
    outputs: Sequence[Sequence[bytes] | None],
    params: MatchingParams,
    account_key: AccountMatchingKey,
    review_material: bytes,
    now: int,
) -> bytes:
    """Seal a bundle from the verified PRF outputs y_j of each variant (None: dummy variant).

    ``finalize_image_vouchers`` calls this after verifying the custodian's proof; evaluation
    harnesses that already hold y_j (e.g. from ``evaluate_known_input``) may call it directly."""
    if len(hashes) != len(outputs) or not 1 <= len(hashes) <= MAX_VARIANTS:
        raise ValueError("one output list per variant, 1..2 variants")
    if len(review_material) > params.review_capacity:
        raise ValueError(f"review material exceeds {params.review_capacity} bytes")
    first = next((h for h in hashes if h is not None), None)
    review_key = random_bytes(32)
    review_sealed = _seal_review(review_key, review_material, params)
    shares = None
    if first is not None:  # one share index per upload, whichever variants it has
        shares = account_key.shares_for_image(
            first.value, now, params.account_threshold, review_key
        )
    variants = []
    for h, ys in zip(hashes, outputs, strict=True):
        if h is None or ys is None or shares is None:
            variants.append(dummy_variant(params))
            continue
        if len(ys) != params.m:
            raise ValueError("one PRF output per LSH key")
        contents = PayloadContents(h.value, shares, review_sealed)
        variants.append(_seal_variant(params, ys, contents))
    return VoucherBundle(params.epoch, tuple(variants)).to_bytes()


def _seal_review(review_key: bytes, material: bytes, params: MatchingParams) -> bytes:
    padded = len(material).to_bytes(4, "big") + material
    padded += bytes(4 + params.review_capacity - len(padded))
    return aes256gcm_seal(review_key, _ZERO_NONCE, padded, review_aad(params.epoch))


def _seal_variant(
    params: MatchingParams, ys: Sequence[bytes], contents: PayloadContents
) -> VariantVouchers:
    r_img = random_bytes(16)
    nonce = random_bytes(NONCE_BYTES)
    shares = shamir.split(params.s, params.m, r_img)
    vouchers = tuple(
        Voucher(
            voucher_tag(y),
            aes256gcm_seal(voucher_key(y), nonce, share.y, voucher_aad(params.epoch, j)),
        )
        for j, (y, share) in enumerate(zip(ys, shares, strict=True))
    )
    payload = aes256gcm_seal(
        payload_key(r_img), nonce, contents.to_bytes(), payload_aad(params.epoch)
    )
    return VariantVouchers(nonce, vouchers, payload)


def dummy_variant(params: MatchingParams) -> VariantVouchers:
    """Random bytes in exactly the shape of a real variant (AEAD outputs are pseudorandom)."""
    vouchers = tuple(
        Voucher(random_bytes(TAG_BYTES), random_bytes(BOX_BYTES)) for _ in range(params.m)
    )
    return VariantVouchers(
        random_bytes(NONCE_BYTES), vouchers, random_bytes(payload_sealed_bytes(params))
    )

"""The per-account key the platform may rebuild only after t distinct verified matches.

Design (client side, no server state):

* The client holds one 32-byte ``AccountMatchingKey`` seed. Time is cut into generations of
  ``GENERATION_SECONDS`` (30 days); generation g has a 16-byte account key
  K_g = HKDF(seed, "account-key" || g) and a degree t-1 sharing polynomial f_g over GF(2^128)
  with f_g(0) = K_g and coefficients HKDF(seed, "account-coef" || g || i). Nothing random: every
  image shares points of the *same* polynomial, so any t distinct points rebuild K_g.
* Each image gets one share index x = HMAC(seed, "share-x" || PDQ of the image as sent) (128
  bits, nonzero). Re-sending the same image yields the same point, so duplicates never count
  twice; all variants of one upload (original and border-trimmed) use the same x.
* An image sent in generation g carries the points f_g(x) and f_{g-1}(x). Any t images inside a
  30-day window fall in generations {g-1, g}, so they always have generation g-1 in common: the
  platform's 30-day policy window is always reachable cryptographically, and the cryptographic
  bound is "t distinct matched images within at most two generations (<= 60 days)".
* Review material is sealed under a fresh per-image key rk; rk is wrapped under K_g and K_{g-1}.
  Rebuilding K_g therefore opens the review material of exactly the images whose payloads the
  platform has opened (verified matches) — never other images, whose payloads stay sealed
  under their own r_img.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fulcrum.encoding import domain_message
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.shamir import SECRET_BYTES, Share, SharingPolynomial
from fulcrum.hazmat.symmetric import (
    GCM_NONCE_BYTES,
    aes256gcm_open,
    aes256gcm_seal,
    hkdf_sha256,
    hmac_sha256,
    random_bytes,
)

GENERATION_SECONDS = 30 * 24 * 3600
SEED_BYTES = 32
WRAP_BYTES = GCM_NONCE_BYTES + 32 + 16


def generation_at(now: int) -> int:
    """The account-key generation in force at Unix time ``now`` (seconds)."""
    if now < GENERATION_SECONDS:
        raise ValueError("time must be a Unix timestamp after 1970-01-31")
    return now // GENERATION_SECONDS


def _u32(n: int) -> bytes:
    return n.to_bytes(4, "big")


def wrap_key_for(account_key: bytes) -> bytes:
    """The AEAD key that wraps per-image review keys under a 16-byte account key."""
    return hkdf_sha256(account_key, salt=None, info=b"fulcrum/match/review-wrap/v1", length=32)


def wrap_review_key(account_key: bytes, generation: int, review_key: bytes) -> bytes:
    nonce = random_bytes(GCM_NONCE_BYTES)
    aad = domain_message("fulcrum/match/review-wrap/v1", _u32(generation))
    return nonce + aes256gcm_seal(wrap_key_for(account_key), nonce, review_key, aad)


def unwrap_review_key(account_key: bytes, generation: int, wrapped: bytes) -> bytes:
    """Raise ``CryptoError`` if the account key is wrong or the wrap was altered."""
    if len(wrapped) != WRAP_BYTES:
        raise CryptoError
    aad = domain_message("fulcrum/match/review-wrap/v1", _u32(generation))
    nonce, body = wrapped[:GCM_NONCE_BYTES], wrapped[GCM_NONCE_BYTES:]
    return aes256gcm_open(wrap_key_for(account_key), nonce, body, aad)


@dataclass(frozen=True)
class AccountShares:
    """What one image's payload carries about the account key (x plus two generations)."""

    generation: int
    x: int
    y_current: bytes = field(repr=False)
    y_previous: bytes = field(repr=False)
    wrap_current: bytes = field(repr=False)
    wrap_previous: bytes = field(repr=False)

    def share(self, generation: int) -> Share:
        if generation == self.generation:
            return Share(self.x, self.y_current)
        if generation == self.generation - 1:
            return Share(self.x, self.y_previous)
        raise ValueError("this image holds no share of that generation")

    def wrap(self, generation: int) -> bytes:
        if generation == self.generation:
            return self.wrap_current
        if generation == self.generation - 1:
            return self.wrap_previous
        raise ValueError("this image holds no wrap for that generation")


class AccountMatchingKey:
    """The client's matching secret. Keep it with the device state; never send it."""

    __slots__ = ("_seed",)

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_BYTES:
            raise ValueError("an account matching key is 32 bytes")
        self._seed = seed

    @classmethod
    def generate(cls) -> AccountMatchingKey:
        return cls(random_bytes(SEED_BYTES))

    def to_bytes(self) -> bytes:
        return self._seed

    def __repr__(self) -> str:
        return "AccountMatchingKey(<secret>)"

    def _derive(self, label: str, *fields: bytes) -> bytes:
        info = domain_message(label, *fields)
        return hkdf_sha256(self._seed, salt=None, info=info, length=SECRET_BYTES)

    def account_key(self, generation: int) -> bytes:
        return self._derive("fulcrum/match/account-key/v1", _u32(generation))

    def polynomial(self, generation: int, threshold: int) -> SharingPolynomial:
        coeffs = [
            self._derive(
                "fulcrum/match/account-coef/v1", _u32(generation), _u32(threshold), _u32(i)
            )
            for i in range(1, threshold)
        ]
        return SharingPolynomial(self.account_key(generation), coeffs)

    def share_index(self, image_hash: bytes) -> int:
        mac = hmac_sha256(self._seed, domain_message("fulcrum/match/share-x/v1", image_hash))
        return int.from_bytes(mac[:SECRET_BYTES], "big") | 1  # nonzero

    def shares_for_image(
        self, image_hash: bytes, now: int, threshold: int, review_key: bytes
    ) -> AccountShares:
        g = generation_at(now)
        x = self.share_index(image_hash)
        cur = self.polynomial(g, threshold).share_at(x)
        prev = self.polynomial(g - 1, threshold).share_at(x)
        return AccountShares(
            generation=g,
            x=x,
            y_current=cur.y,
            y_previous=prev.y,
            wrap_current=wrap_review_key(self.account_key(g), g, review_key),
            wrap_previous=wrap_review_key(self.account_key(g - 1), g - 1, review_key),
        )

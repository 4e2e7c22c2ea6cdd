"""The private-matching side of the harness: a test bank of benign stand-in images listed by two
sources, a custodian epoch, and the client pipeline that turns one media send into a voucher bundle.

Every bundle is produced by the production code (``fulcrum.matching``): PDQ hashing of the image
bytes, LSH keys, VOPRF outputs, Shamir shares and AEAD sealing. Two client paths:

* ``full``: ``prepare_image_vouchers`` -> ``CustodianEvaluator.evaluate_batch`` ->
  ``finalize_image_vouchers`` (blinding, batch DLEQ proof verification; ~0.35 s per image);
* ``cached``: the custodian's ``evaluate_known_input`` gives the same PRF outputs y_j (the tests
  check equality with the full round), cached per unique PDQ hash, then ``seal_image_vouchers``.
  Every send is sealed afresh (new r_img, nonce, shares, review key), so per-send leakage counts
  stay honest; only the oblivious evaluation round is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from fulcrum.encoding import domain_message
from fulcrum.hazmat.signing import SigningKey
from fulcrum.hazmat.symmetric import sha256
from fulcrum.matching import (
    AccountMatchingKey,
    BankManifest,
    Custodian,
    EpochRelease,
    HashBank,
    ManifestTrust,
    PdqHash,
    SourceListing,
    finalize_image_vouchers,
    hash_image_bytes,
    lsh_keys,
    prepare_image_vouchers,
)
from fulcrum.matching.voucher import seal_image_vouchers
from fulcrum.sim.images import ImageSpec, render
from fulcrum.sim.planted import BANK_ITEMS

EPOCH = 1
SOURCES = ("hotline-a", "hotline-b")
SINGLE_SOURCE_ITEMS = 5  # listed by one source only: never admitted


@dataclass(frozen=True)
class MatchingSetup:
    release: EpochRelease
    manifest: BankManifest
    trust: ManifestTrust
    bank_hashes: tuple[bytes, ...]  # admitted entries' PDQ (what B0 matches against)
    admitted: int
    not_admitted: int


def _key(label: str) -> SigningKey:
    return SigningKey(sha256(domain_message("fulcrum/sim/key/v1", label.encode())))


@lru_cache(maxsize=4)
def matching_setup(threshold: int) -> MatchingSetup:
    """The bank and epoch every run uses (deterministic; built once per process)."""
    bank = HashBank("sim-bank")
    listings: list[SourceListing] = []
    for item in range(BANK_ITEMS + SINGLE_SOURCE_ITEMS):
        h = hash_image_bytes(render(ImageSpec("bank", item)))[0].value
        sources = SOURCES if item < BANK_ITEMS else SOURCES[:1]
        listings += [SourceListing(h, s, f"{s}-{item}") for s in sources]
    bank.add_listings(listings)
    report = bank.admission()
    custodian = Custodian(sha256(b"fulcrum/sim/custodian-master"), _key("custodian"))
    release = custodian.publish_epoch(EPOCH, report.admitted, account_threshold=threshold)
    manifest = release.manifest
    for name in SOURCES:
        manifest = manifest.cosigned(name, _key(name))
    trust = ManifestTrust(
        _key("custodian").public_key(), {n: _key(n).public_key() for n in SOURCES}
    )
    return MatchingSetup(
        release,
        manifest,
        trust,
        tuple(e.pdq for e in report.admitted),
        len(report.admitted),
        len(report.single_source),
    )


def account_key(seed: int, account: int) -> AccountMatchingKey:
    return AccountMatchingKey(sha256(f"fulcrum/sim/account/{seed}/{account}".encode()))


@dataclass(frozen=True)
class SendJob:
    index: int  # position in the world's media_sends
    seed: int
    sender: int
    at: int
    spec: ImageSpec
    full_round: bool


@dataclass(frozen=True)
class SendResult:
    index: int
    hashes: tuple[tuple[bytes, int], ...]  # (PDQ, quality) per variant
    bundle: bytes
    path: str  # "full" | "cached"


class ClientPipeline:
    """One process's client side; caches PRF outputs per unique PDQ hash."""

    def __init__(self, threshold: int) -> None:
        self.setup = matching_setup(threshold)
        self._ys: dict[bytes, list[bytes]] = {}
        self._hashes: dict[str, list[PdqHash]] = {}

    def run(self, job: SendJob) -> SendResult:
        s = self.setup
        image = render(job.spec)
        acct = account_key(job.seed, job.sender)
        review = f"review:{job.spec.key}".encode()  # stand-in for a small visual derivative
        if job.full_round:
            pending = prepare_image_vouchers(image, s.manifest, s.trust, acct, review, job.at)
            response = s.release.evaluator.evaluate_batch(pending.evaluation_request)
            bundle = finalize_image_vouchers(pending, response)
            hashes = self._hashes.setdefault(job.spec.key, hash_image_bytes(image))
            return SendResult(
                job.index, tuple((h.value, h.quality) for h in hashes), bundle, "full"
            )
        hashes = self._hashes.get(job.spec.key) or hash_image_bytes(image)
        self._hashes[job.spec.key] = hashes
        chosen = [h if h.usable else None for h in hashes]
        outputs = [None if h is None else self.outputs(h) for h in chosen]
        bundle = seal_image_vouchers(chosen, outputs, s.manifest.params, acct, review, job.at)
        return SendResult(job.index, tuple((h.value, h.quality) for h in hashes), bundle, "cached")

    def outputs(self, h: PdqHash) -> list[bytes]:
        ys = self._ys.get(h.value)
        if ys is None:
            ev = self.setup.release.evaluator
            ys = [ev.evaluate_known_input(k) for k in lsh_keys(h, self.setup.manifest.params)]
            self._ys[h.value] = ys
        return ys


_PIPELINE: ClientPipeline | None = None


def _init_worker(threshold: int) -> None:
    global _PIPELINE
    _PIPELINE = ClientPipeline(threshold)


def _run_chunk(jobs: list[SendJob]) -> list[SendResult]:
    assert _PIPELINE is not None
    return [_PIPELINE.run(j) for j in jobs]

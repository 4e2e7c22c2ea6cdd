"""Custodian banks (admission, negatives, disable, quarantine, hash lists) and manifests."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from fulcrum.hazmat.signing import SigningKey
from fulcrum.matching import (
    BankError,
    BankManifest,
    HashBank,
    ManifestError,
    ManifestTrust,
    PlatformMatcher,
    SourceListing,
    TagTable,
    export_hash_list,
    parse_hash_list,
)
from fulcrum.matching.custodian import Custodian

from .world import make_world

pytestmark = pytest.mark.unit
RNG = np.random.default_rng(7)


def _hash() -> bytes:
    return RNG.integers(0, 256, 32, dtype=np.uint8).tobytes()


def _flip(h: bytes, n: int) -> bytes:
    bits = np.unpackbits(np.frombuffer(h, dtype=np.uint8))
    bits[:n] ^= 1
    return np.packbits(bits).tobytes()


def test_hash_list_round_trip_uses_threatexchange_pdq_hex() -> None:
    pytest.importorskip("threatexchange")
    from threatexchange.signal_type.pdq.signal import PdqSignal

    listings = [
        SourceListing(_hash(), "hotline-a", "x1", ("csam", "v2")),
        SourceListing(_hash(), "b", "y"),
    ]
    text = export_hash_list(listings)
    assert text.splitlines()[0] == "pdq_hex,source,entry_id,labels"
    for line in text.splitlines()[1:]:
        PdqSignal.validate_signal_str(line.split(",")[0])
    assert parse_hash_list(text) == listings
    assert parse_hash_list("pdq_hex,source,entry_id\n" + "ab" * 32 + ",s,e\n")[0].labels == ()
    for bad in [
        "",
        "hash,source,id\n",
        "pdq_hex,source,entry_id\nzz,s,e\n",
        "pdq_hex,source,entry_id\n" + "ab" * 32 + ",,e\n",
    ]:
        with pytest.raises(BankError):
            parse_hash_list(bad)


def test_admission_needs_two_independent_sources_within_16() -> None:
    bank = HashBank("b", organisations={"a-eu": "org-a", "a-us": "org-a"})
    single, pair, far, same_org = _hash(), _hash(), _hash(), _hash()
    bank.add_listings(
        [
            SourceListing(single, "a-eu", "1"),
            SourceListing(pair, "a-eu", "2"),
            SourceListing(_flip(pair, 16), "other", "2b"),
            SourceListing(far, "a-eu", "3"),
            SourceListing(_flip(far, 17), "other", "3b"),
            SourceListing(same_org, "a-eu", "4"),
            SourceListing(same_org, "a-us", "4b"),
        ]
    )
    report = bank.admission()
    assert len(report.admitted) == 1
    assert report.admitted[0].pdq in (pair, _flip(pair, 16))
    assert report.admitted[0].sources == ("a-eu", "other")
    assert {x.source_entry_id for x in report.single_source} == {"1", "3", "3b", "4", "4b"}


def test_negative_bank_disable_and_quarantine() -> None:
    bank = HashBank("b", flood_limit=3)
    h1, h2 = _hash(), _hash()
    bank.add_listings(
        [SourceListing(h, s, f"{s}{i}") for i, h in enumerate((h1, h2)) for s in "xy"]
    )
    assert len(bank.entries()) == 2
    bank.add_negative([_flip(h1, 20)])
    assert [e.pdq for e in bank.entries()] == [h2]
    assert len(bank.admission().negative) == 1
    entry_id = bank.entries()[0].entry_id
    bank.disable(entry_id)
    assert bank.entries() == ()
    assert len(bank.admission().disabled) == 1
    bank.enable(entry_id)
    assert len(bank.entries()) == 1
    flood = [SourceListing(_hash(), "z", str(i)) for i in range(4)]
    assert bank.add_listings(flood) == 0
    assert bank.quarantined() == {"z": 4}
    assert bank.release_quarantine("z") == 4
    assert bank.quarantined() == {}
    with pytest.raises(BankError):
        bank.withdraw("nobody", "0")


def test_manifest_round_trip_and_verification() -> None:
    w = make_world()
    data = w.manifest.to_bytes()
    parsed = BankManifest.from_bytes(data)
    assert parsed == w.manifest
    assert parsed.to_bytes() == data
    parsed.verify(w.trust)
    fields = parsed.to_log_entry_fields()
    assert fields["epoch"] == 42
    assert len(fields["source_signatures"]) == 2
    tampered = replace(parsed, entry_count=parsed.entry_count + 1)
    with pytest.raises(ManifestError):
        tampered.verify(w.trust)
    stranger = SigningKey(b"\x0b" * 32)
    with pytest.raises(ManifestError):
        parsed.verify(ManifestTrust(stranger.public_key(), w.trust.source_keys))
    only_one = replace(parsed, source_signatures=parsed.source_signatures[:1])
    with pytest.raises(ManifestError):
        only_one.verify(w.trust)
    bogus = parsed.cosigned("hotline-a", stranger)  # replaces a's signature with a bad one
    with pytest.raises(ManifestError):
        bogus.verify(w.trust)
    with pytest.raises(ManifestError):
        BankManifest.from_bytes(data.replace(b'"k":40', b'"k": 40'))
    with pytest.raises(ManifestError):
        BankManifest.from_bytes(data.replace(b'"k":40', b'"k":0'))


def test_tag_table_round_trip_and_platform_checks_root() -> None:
    w = make_world()
    table = w.release.tag_table
    again = TagTable.from_bytes(table.to_bytes())
    assert again.root() == table.root() == w.manifest.tag_table_root
    assert np.all(np.diff(again.tags.astype(np.float64)) >= 0)
    other = Custodian(b"\x0c" * 32, w.custodian_key).publish_epoch(42, w.release.entries, m=32)
    with pytest.raises(ManifestError):
        PlatformMatcher(w.manifest, other.tag_table, trust=w.trust)
    with pytest.raises(ValueError, match="unique"):
        Custodian(b"\x0c" * 32, w.custodian_key).publish_epoch(1, [*w.release.entries[:1]] * 2, m=8)


def test_epochs_rotate_keys_and_seeds() -> None:
    key = SigningKey(b"\x01" * 32)
    c = Custodian(b"\x04" * 32, key)
    a, b = c.publish_epoch(1, [], m=8), c.publish_epoch(2, [], m=8)
    assert a.manifest.voprf_public_key != b.manifest.voprf_public_key
    assert a.manifest.lsh_seed != b.manifest.lsh_seed
    assert c.publish_epoch(1, [], m=8).manifest.voprf_public_key == a.manifest.voprf_public_key

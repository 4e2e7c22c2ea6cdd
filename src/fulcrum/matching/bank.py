"""Hash banks held by the custodian: source listings, two-source admission, negative banks,
per-entry disable and flood quarantine. Hash lists use the python-threatexchange PDQ hex form
(64 lowercase hex digits, as ``PdqSignal`` writes it) in a CSV with the header
``pdq_hex,source,entry_id,labels`` (labels ``;``-separated, optional column).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from fulcrum.encoding import domain_message
from fulcrum.hazmat.symmetric import sha256
from fulcrum.matching.errors import BankError
from fulcrum.matching.pdq import MATCH_DISTANCE, PDQ_BYTES, hamming_many, pdq_from_hex

ADMISSION_DISTANCE = 16
MIN_SOURCES = 2
CSV_FIELDS = ("pdq_hex", "source", "entry_id", "labels")


@dataclass(frozen=True)
class SourceListing:
    """One hash as listed by one source (a hotline, a clearinghouse, an industry list...)."""

    pdq: bytes
    source: str
    source_entry_id: str
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.pdq) != PDQ_BYTES:
            raise BankError("a listing's PDQ hash is 32 bytes")
        if not self.source or not self.source_entry_id:
            raise BankError("a listing needs a source and a source entry id")

    @property
    def pdq_hex(self) -> str:
        return self.pdq.hex()


def parse_hash_list(text: str) -> list[SourceListing]:
    """Parse a hash-list CSV; any malformed row raises ``BankError`` naming the line."""
    try:
        return _parse_rows(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise BankError(f"malformed CSV: {exc}") from exc


def _parse_rows(reader: Iterator[list[str]]) -> list[SourceListing]:
    header = next(reader, None)
    if header is None or tuple(header[:3]) != CSV_FIELDS[:3] or len(header) > 4:
        raise BankError(f"hash list header must be {','.join(CSV_FIELDS)} (labels optional)")
    out: list[SourceListing] = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise BankError(f"line {line}: expected {len(header)} columns")
        try:
            pdq = pdq_from_hex(row[0].strip().lower())
        except ValueError as exc:
            raise BankError(f"line {line}: {exc}") from exc
        labels = tuple(x for x in row[3].split(";") if x) if len(row) == 4 else ()
        try:
            out.append(SourceListing(pdq, row[1].strip(), row[2].strip(), labels))
        except BankError as exc:
            raise BankError(f"line {line}: {exc}") from exc
    return out


def export_hash_list(listings: Iterable[SourceListing]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for item in listings:
        writer.writerow([item.pdq_hex, item.source, item.source_entry_id, ";".join(item.labels)])
    return buf.getvalue()


@dataclass(frozen=True)
class BankEntry:
    """An admitted entry: a representative hash listed by >= 2 independent sources."""

    entry_id: str
    pdq: bytes
    sources: tuple[str, ...]
    listings: tuple[SourceListing, ...] = field(repr=False)


@dataclass(frozen=True)
class AdmissionReport:
    admitted: tuple[BankEntry, ...]
    single_source: tuple[SourceListing, ...]  # refused: only one independent source
    negative: tuple[BankEntry, ...]  # refused: near a known false positive
    disabled: tuple[BankEntry, ...]


class HashBank:
    """One bank (e.g. one list category). Entries are recomputed from listings on demand."""

    def __init__(
        self,
        name: str,
        *,
        organisations: Mapping[str, str] | None = None,
        flood_limit: int = 100_000,
        negative_distance: int = MATCH_DISTANCE,
    ) -> None:
        if not name:
            raise BankError("a bank needs a name")
        self.name = name
        self._organisations = dict(organisations or {})
        self._flood_limit = flood_limit
        self._negative_distance = negative_distance
        self._listings: dict[tuple[str, str], SourceListing] = {}
        self._quarantine: dict[str, list[SourceListing]] = {}
        self._negative: set[bytes] = set()
        self._disabled: set[str] = set()

    def __repr__(self) -> str:
        return f"HashBank({self.name!r}, listings={len(self._listings)})"

    def add_listings(self, listings: Iterable[SourceListing]) -> int:
        """Add listings; a source sending more than ``flood_limit`` in one call is quarantined
        whole until ``release_quarantine``. Returns how many were accepted now."""
        by_source: dict[str, list[SourceListing]] = {}
        for item in listings:
            by_source.setdefault(item.source, []).append(item)
        accepted = 0
        for source, items in by_source.items():
            if len(items) > self._flood_limit:
                self._quarantine.setdefault(source, []).extend(items)
                continue
            for item in items:
                self._listings[(item.source, item.source_entry_id)] = item
                accepted += 1
        return accepted

    def quarantined(self) -> dict[str, int]:
        return {s: len(v) for s, v in self._quarantine.items()}

    def release_quarantine(self, source: str) -> int:
        items = self._quarantine.pop(source, [])
        for item in items:
            self._listings[(item.source, item.source_entry_id)] = item
        return len(items)

    def withdraw(self, source: str, source_entry_id: str) -> None:
        if self._listings.pop((source, source_entry_id), None) is None:
            raise BankError(f"no listing {source}/{source_entry_id}")

    def add_negative(self, pdqs: Iterable[bytes]) -> None:
        """Known false positives: no entry within ``negative_distance`` of these is admitted."""
        for pdq in pdqs:
            if len(pdq) != PDQ_BYTES:
                raise BankError("a PDQ hash is 32 bytes")
            self._negative.add(pdq)

    def disable(self, entry_id: str) -> None:
        self._disabled.add(entry_id)

    def enable(self, entry_id: str) -> None:
        self._disabled.discard(entry_id)

    def independent_key(self, source: str) -> str:
        return self._organisations.get(source, source)

    def entry_id_for(self, pdq: bytes) -> str:
        return (
            "e"
            + sha256(domain_message("fulcrum/match/entry-id/v1", self.name.encode(), pdq))[:7].hex()
        )

    def admission(self) -> AdmissionReport:
        listings = sorted(
            self._listings.values(), key=lambda x: (x.pdq, x.source, x.source_entry_id)
        )
        if not listings:
            return AdmissionReport((), (), (), ())
        packed = np.frombuffer(b"".join(x.pdq for x in listings), dtype=np.uint8).reshape(-1, 32)
        parent = list(range(len(listings)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i, item in enumerate(listings):  # single-linkage clusters at distance <= 16
            close = np.nonzero(hamming_many(item.pdq, packed[i + 1 :]) <= ADMISSION_DISTANCE)[0]
            for off in close.tolist():
                parent[find(i + 1 + off)] = find(i)
        clusters: dict[int, list[int]] = {}
        for i in range(len(listings)):
            clusters.setdefault(find(i), []).append(i)
        negatives = np.frombuffer(b"".join(sorted(self._negative)), dtype=np.uint8).reshape(-1, 32)
        admitted: list[BankEntry] = []
        single: list[SourceListing] = []
        negative: list[BankEntry] = []
        disabled: list[BankEntry] = []
        for members in clusters.values():
            items = tuple(listings[i] for i in members)
            orgs = {self.independent_key(x.source) for x in items}
            if len(orgs) < MIN_SOURCES:
                single.extend(items)
                continue
            sub = packed[members]
            spread = [int(hamming_many(x.pdq, sub).max()) for x in items]
            rep = items[spread.index(min(spread))].pdq  # medoid-like representative
            entry = BankEntry(
                self.entry_id_for(rep), rep, tuple(sorted({x.source for x in items})), items
            )
            if (
                len(negatives)
                and int(hamming_many(rep, negatives).min()) <= self._negative_distance
            ):
                negative.append(entry)
            elif entry.entry_id in self._disabled:
                disabled.append(entry)
            else:
                admitted.append(entry)
        admitted.sort(key=lambda e: e.entry_id)
        return AdmissionReport(tuple(admitted), tuple(single), tuple(negative), tuple(disabled))

    def entries(self) -> tuple[BankEntry, ...]:
        """The admitted, enabled entries that go into the next epoch's tag table."""
        return self.admission().admitted

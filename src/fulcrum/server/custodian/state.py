"""The custodian's state in its data directory (``<data_dir>/custodian/``), as plain files:

* ``secrets.json`` (mode 0600): the 32-byte master secret (VOPRF keys, LSH seeds and commitment
  salts derive from it per epoch), the manifest-signing key seed and the operator token the
  platform presents to fetch the tag table. Back it up; losing it means a new custodian key.
* ``sources.json`` (mode 0600): each source's organisation and co-signing key. In production a
  source co-signs the manifest with its own key off this machine; here (development, demo) the
  custodian holds a key per source and co-signs for it.
* ``banks/<bank>.csv``: every listing as imported (python-threatexchange PDQ hex, source, entry
  id, labels); ``banks/<bank>.json``: disabled entry ids and the negative bank (hex hashes).
* ``config.json``: the current epoch and its parameters (k, m, s, account threshold).
* ``releases/<epoch>.manifest.json`` (signed manifest) and ``releases/<epoch>.table`` (tag table).
* ``trust.json``: the public trust roots clients pin (custodian key, source keys).

``on_publish`` listeners get each new manifest: with the platform in the same process, it is
appended to the transparency log there; a separate custodian's manifests are logged by the
platform when it first fetches them (``fulcrum.server.matching.manifest_log``).

Admission (>= 2 independent sources within PDQ distance 16) is ``HashBank.admission``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fulcrum.encoding import b64d, b64e
from fulcrum.hazmat.signing import SigningKey
from fulcrum.matching import (
    AdmissionReport,
    BankEntry,
    BankManifest,
    Custodian,
    EpochRelease,
    HashBank,
    ManifestTrust,
    SourceListing,
    TagTable,
    export_hash_list,
    parse_hash_list,
)
from fulcrum.matching.errors import BankError, VoucherFormatError
from fulcrum.matching.lsh import DEFAULT_ACCOUNT_THRESHOLD, DEFAULT_K, DEFAULT_M, DEFAULT_S
from fulcrum.matching.pdq import pdq_from_hex
from fulcrum.wire.matching import TrustRoots

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,47}$")
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class NoRelease(LookupError):
    """Nothing has been published yet (run ``fulcrum custodian publish``)."""


def parse_hash_file(text: str, source: str | None) -> list[SourceListing]:
    """Listings from a hash file: the bank CSV (``pdq_hex,source,entry_id[,labels]``) or a
    threatexchange-style list of PDQ hex per line (tab- or comma-separated, optional further
    columns: an id, then metadata), whose listings are attributed to ``source``."""
    first = text.lstrip().split("\n", 1)[0]
    if first.startswith("pdq_hex,source"):
        listings = parse_hash_list(text)
        if source is not None:
            other = sorted({x.source for x in listings if x.source != source})
            if other:
                raise BankError(f"file lists other sources {other}, not only {source!r}")
        return listings
    if not source:
        raise BankError("a plain PDQ hex list needs --source")
    out: list[SourceListing] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        fields = [f.strip() for f in re.split(r"[\t,]", line.strip())]
        if not fields[0] or fields[0].startswith("#"):
            continue
        if fields[0].lower() == "pdq" and len(fields) > 1:  # "<signal type>\t<hash>" rows
            fields = fields[1:]
        if not _HEX.match(fields[0]):
            if line_no == 1:
                continue  # a header line
            raise BankError(f"line {line_no}: not a 64-digit PDQ hex hash")
        entry = fields[1] if len(fields) > 1 and fields[1] else f"{source}-{line_no}"
        out.append(SourceListing(pdq_from_hex(fields[0].lower()), source, entry))
    return out


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _read_json(path: Path, default: dict[str, Any]) -> dict[str, Any]:
    if not path.exists():
        return default
    obj = json.loads(path.read_text())
    assert isinstance(obj, dict)
    return obj


@dataclass(frozen=True)
class _Loaded:
    epoch: int
    release: EpochRelease
    manifest_bytes: bytes
    table_bytes: bytes


class CustodianState:
    """One custodian's files and its current release (cached; reloaded when config.json moves)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.RLock()
        self._loaded: _Loaded | None = None
        self._loaded_stamp: float = -1.0
        # Called with each newly published (fully co-signed) manifest, e.g. to append it to
        # the transparency log when the platform runs in this process.
        self.on_publish: list[Callable[[BankManifest], object]] = []
        root.mkdir(parents=True, exist_ok=True)
        secrets_path = root / "secrets.json"
        if not secrets_path.exists():
            body = {
                "master_secret": b64e(secrets.token_bytes(32)),
                "signing_seed": b64e(SigningKey.generate().seed),
                "operator_token": secrets.token_urlsafe(32),
            }
            _write(secrets_path, json.dumps(body).encode(), private=True)
        data = _read_json(secrets_path, {})
        self._custodian_key = SigningKey(b64d(data["signing_seed"], length=32))
        self._custodian = Custodian(b64d(data["master_secret"], length=32), self._custodian_key)
        self.operator_token: str = data["operator_token"]

    def __repr__(self) -> str:
        return f"CustodianState({str(self.root)!r})"

    # --- sources and banks -------------------------------------------------------------------

    def _sources(self) -> dict[str, dict[str, str]]:
        return dict(_read_json(self.root / "sources.json", {"sources": {}})["sources"])

    def add_source(self, name: str, organisation: str | None = None) -> None:
        """Register a source (and, in development, generate the key it co-signs with)."""
        if not _NAME.match(name):
            raise BankError(f"source name {name!r}: lowercase letters, digits, '.', '_', '-'")
        with self._lock:
            sources = self._sources()
            if name in sources:
                return
            sources[name] = {
                "organisation": organisation or name,
                "signing_seed": b64e(SigningKey.generate().seed),
            }
            _write(self.root / "sources.json", json.dumps({"sources": sources}).encode(), True)

    def source_keys(self) -> dict[str, SigningKey]:
        return {
            n: SigningKey(b64d(v["signing_seed"], length=32)) for n, v in self._sources().items()
        }

    def bank_names(self) -> list[str]:
        folder = self.root / "banks"
        return sorted(p.stem for p in folder.glob("*.csv")) if folder.exists() else []

    def bank(self, name: str) -> HashBank:
        if not _NAME.match(name):
            raise BankError(f"bank name {name!r}: lowercase letters, digits, '.', '_', '-'")
        orgs = {n: v["organisation"] for n, v in self._sources().items()}
        bank = HashBank(name, organisations=orgs)
        csv_path = self.root / "banks" / f"{name}.csv"
        if csv_path.exists():
            bank.add_listings(parse_hash_list(csv_path.read_text()))
        meta = _read_json(self.root / "banks" / f"{name}.json", {})
        for entry_id in meta.get("disabled", []):
            bank.disable(entry_id)
        bank.add_negative(pdq_from_hex(h) for h in meta.get("negative", []))
        return bank

    def _listings(self, name: str) -> list[SourceListing]:
        csv_path = self.root / "banks" / f"{name}.csv"
        return parse_hash_list(csv_path.read_text()) if csv_path.exists() else []

    def import_listings(
        self, bank_name: str, listings: list[SourceListing], *, negative: bool = False
    ) -> AdmissionReport:
        """Add listings to a bank (or hashes to its negative bank); returns the new admission."""
        with self._lock:
            self.bank(bank_name)  # validates the name
            for source in sorted({x.source for x in listings}):
                self.add_source(source)
            if negative:
                meta = _read_json(self.root / "banks" / f"{bank_name}.json", {})
                meta["negative"] = sorted(
                    set(meta.get("negative", [])) | {x.pdq_hex for x in listings}
                )
                _write(self.root / "banks" / f"{bank_name}.json", json.dumps(meta).encode())
                if not (self.root / "banks" / f"{bank_name}.csv").exists():
                    _write(self.root / "banks" / f"{bank_name}.csv", export_hash_list([]).encode())
            else:
                merged = {(x.source, x.source_entry_id): x for x in self._listings(bank_name)}
                merged.update({(x.source, x.source_entry_id): x for x in listings})
                text = export_hash_list(merged.values())
                _write(self.root / "banks" / f"{bank_name}.csv", text.encode())
            return self.bank(bank_name).admission()

    def disable(self, entry_id: str) -> str:
        """Disable one admitted entry (in whichever bank holds it); returns the bank's name."""
        with self._lock:
            for name in self.bank_names():
                report = self.bank(name).admission()
                ids = {e.entry_id for e in (*report.admitted, *report.disabled)}
                if entry_id in ids:
                    path = self.root / "banks" / f"{name}.json"
                    meta = _read_json(path, {})
                    meta["disabled"] = sorted(set(meta.get("disabled", [])) | {entry_id})
                    _write(path, json.dumps(meta).encode())
                    return name
        raise BankError(f"no entry {entry_id!r} in any bank")

    def entries(self) -> list[BankEntry]:
        return [e for name in self.bank_names() for e in self.bank(name).entries()]

    def stats(self) -> dict[str, dict[str, int]]:
        out = {}
        for name in self.bank_names():
            bank = self.bank(name)
            report = bank.admission()
            out[name] = {
                "listings": len(self._listings(name)),
                "admitted": len(report.admitted),
                "refused_single_source": len(report.single_source),
                "refused_negative": len(report.negative),
                "disabled": len(report.disabled),
                "quarantined": sum(bank.quarantined().values()),
            }
        return out

    # --- epochs, manifests and the tag table --------------------------------------------------

    def config(self) -> dict[str, int]:
        return {k: int(v) for k, v in _read_json(self.root / "config.json", {}).items()}

    def trust(self) -> ManifestTrust:
        keys = self.source_keys()
        return ManifestTrust(
            self._custodian_key.public_key(),
            {n: k.public_key() for n, k in keys.items()},
            min_source_signatures=min(2, len(keys)) if keys else 2,
        )

    def publish(
        self,
        epoch: int | None = None,
        *,
        k: int | None = None,
        m: int | None = None,
        s: int | None = None,
        account_threshold: int | None = None,
    ) -> BankManifest:
        """Build, sign (custodian + every source) and store a release; it becomes current."""
        with self._lock:
            cfg = self.config()
            params = {
                "k": k or cfg.get("k", DEFAULT_K),
                "m": m or cfg.get("m", DEFAULT_M),
                "s": s or cfg.get("s", DEFAULT_S),
                "account_threshold": account_threshold
                or cfg.get("account_threshold", DEFAULT_ACCOUNT_THRESHOLD),
            }
            epoch = epoch if epoch is not None else cfg.get("epoch", 1)
            release = self._custodian.publish_epoch(epoch, self.entries(), **params)
            manifest = release.manifest
            for name, key in sorted(self.source_keys().items()):
                manifest = manifest.cosigned(name, key)
            manifest.verify(self.trust())
            folder = self.root / "releases"
            _write(folder / f"{epoch}.table", release.tag_table.to_bytes())
            _write(folder / f"{epoch}.manifest.json", manifest.to_bytes())
            _write(
                self.root / "trust.json",
                TrustRoots.from_trust(self.trust()).model_dump_json().encode(),
            )
            _write(self.root / "config.json", json.dumps({"epoch": epoch, **params}).encode())
            self._loaded = None
        for listener in self.on_publish:
            listener(manifest)
        return manifest

    def rotate(self) -> BankManifest:
        """Move to the next epoch: new VOPRF key and LSH seed, rebuilt table."""
        return self.publish(self.config().get("epoch", 0) + 1)

    def _current(self) -> _Loaded:
        cfg_path = self.root / "config.json"
        with self._lock:
            try:
                stamp = cfg_path.stat().st_mtime
            except FileNotFoundError:
                raise NoRelease("the custodian has not published a manifest yet") from None
            if self._loaded is not None and stamp == self._loaded_stamp:
                return self._loaded
            cfg = self.config()
            epoch = cfg["epoch"]
            folder = self.root / "releases"
            manifest_bytes = (folder / f"{epoch}.manifest.json").read_bytes()
            table_bytes = (folder / f"{epoch}.table").read_bytes()
            manifest = BankManifest.from_bytes(manifest_bytes)
            table = TagTable.from_bytes(table_bytes)
            evaluator = self._custodian.evaluator(epoch, manifest.m)
            release = EpochRelease(manifest, table, evaluator, ())
            self._loaded = _Loaded(epoch, release, manifest_bytes, table_bytes)
            self._loaded_stamp = stamp
            return self._loaded

    def manifest_bytes(self) -> bytes:
        return self._current().manifest_bytes

    def manifest(self) -> BankManifest:
        return self._current().release.manifest

    def tag_table(self) -> TagTable:
        return self._current().release.tag_table

    def tag_table_bytes(self) -> bytes:
        return self._current().table_bytes

    def evaluate(self, request: bytes) -> bytes:
        """Evaluate one blinded batch for the current epoch (``VoucherFormatError`` if bad)."""
        current = self._current()
        if len(request) >= 12 and int.from_bytes(request[4:12], "big") != current.epoch:
            raise VoucherFormatError(f"request is not for the current epoch {current.epoch}")
        return current.release.evaluator.evaluate_batch(request)

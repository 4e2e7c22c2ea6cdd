"""Evidence bundles: everything verifies offline; any modified byte is caught and named."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest

from fulcrum.evidence import TrustedKeys, csv_safe, verify_bundle, zip_bundle
from fulcrum.hazmat.signing import SigningKey

from .world import BODIES, EXPORTER, PNG, SVG, TRUSTED, build

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "case-1"
    build(out)
    return out


def all_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_bundle_verifies_offline(bundle: Path, tmp_path: Path) -> None:
    report = verify_bundle(bundle, TRUSTED)
    assert report.ok, report.failures
    assert {"manifest signature", "EvidenceExported inclusion", "custody chain"} <= set(
        report.passed
    )
    names = all_files(bundle)
    for expected in ("transcript.html", "transcript.pdf", "messages.json", "messages.csv",
                     "handover.xml", "custody.jsonl", "manifest.json",
                     "provenance/partials.json", "provenance/warrant.json"):  # fmt: skip
        assert expected in names
    z = zip_bundle(bundle, tmp_path / "case-1.zip")
    assert verify_bundle(z, TRUSTED).ok


def test_untrusted_keys_fail(bundle: Path) -> None:
    other = TrustedKeys((SigningKey(bytes(32)).public_key(),), TRUSTED.log_verifier,
                        TRUSTED.witnesses)  # fmt: skip
    report = verify_bundle(bundle, other)
    assert {(f.file, f.check) for f in report.failures} >= {
        ("manifest.json", "signer"), ("custody.jsonl", "signer")}  # fmt: skip
    no_log = TrustedKeys(TRUSTED.exporters)
    assert ("manifest.json", "log-trust") in {
        (f.file, f.check) for f in verify_bundle(bundle, no_log).failures
    }


def _files_of_fresh_bundle() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "probe"
        build(out, n=2)
        return all_files(out)


FILES = _files_of_fresh_bundle()


@pytest.mark.parametrize("name", FILES)
def test_any_modified_byte_is_caught_and_named(tmp_path: Path, name: str) -> None:
    out = tmp_path / "b"
    build(out, n=2)
    target = out / name
    data = bytearray(target.read_bytes())
    for pos in (0, len(data) // 2, len(data) - 2):
        changed = bytearray(data)
        changed[pos] ^= 0x01
        target.write_bytes(bytes(changed))
        report = verify_bundle(out, TRUSTED)
        assert not report.ok, (name, pos)
        assert name in report.failed_files(), (name, pos, report.failures)
    target.write_bytes(bytes(data))
    assert verify_bundle(out, TRUSTED).ok


def test_added_or_removed_files_are_caught(tmp_path: Path) -> None:
    out = tmp_path / "b"
    build(out, n=1)
    (out / "attachments" / "extra").write_bytes(b"x")
    assert ("attachments/extra", "unlisted") in {
        (f.file, f.check) for f in verify_bundle(out, TRUSTED).failures
    }
    (out / "attachments" / "extra").unlink()
    (out / "messages.csv").unlink()
    assert ("messages.csv", "missing") in {
        (f.file, f.check) for f in verify_bundle(out, TRUSTED).failures
    }


def test_html_injection_neutralised(bundle: Path) -> None:
    html = (bundle / "transcript.html").read_text()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "default-src 'none'" in html
    # The PNG is shown inline; the SVG (which could carry script) only linked.
    png = __import__("hashlib").sha256(PNG).hexdigest()
    svg = __import__("hashlib").sha256(SVG).hexdigest()
    assert f'<img src="attachments/{png}"' in html
    assert f'<img src="attachments/{svg}"' not in html and f'href="attachments/{svg}"' in html


def test_csv_injection_neutralised(bundle: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((bundle / "messages.csv").read_text())))
    bodies = {r["body"] for r in rows}
    assert "'" + BODIES[1] in bodies
    assert all(
        not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r.values()
    )
    for raw in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert csv_safe(raw) == "'" + raw
    assert csv_safe("fine") == "fine"


def test_failures_listed_not_dropped(bundle: Path) -> None:
    doc = json.loads((bundle / "messages.json").read_text())
    broken = [m for m in doc["messages"] if m["msg_id"] == "m-broken"]
    assert broken and broken[0]["status"] == "undecryptable" and broken[0]["failure"]
    html = (bundle / "transcript.html").read_text()
    assert "Not decrypted (1)" in html and "m-broken" in html
    assert 'status="undecryptable"' in (bundle / "handover.xml").read_text()
    assert "m-broken" in (bundle / "messages.csv").read_text()


def test_records_carry_direction_times_markers_and_hashes(bundle: Path) -> None:
    doc = json.loads((bundle / "messages.json").read_text())
    by_id = {m["msg_id"]: m for m in doc["messages"]}
    first = by_id["m000000"]
    assert first["direction"] == "from-target" and by_id["m-broken"]["direction"] == "to-target"
    assert first["server_time"].endswith("+00:00") and first["client_ts_ms"] < first["server_ts_ms"]
    assert by_id["m000001"]["reply_to"] == "m000000" and by_id["m000002"]["forwarded"]
    att = first["attachments"][0]
    assert att["md5"] == __import__("hashlib").md5(PNG).hexdigest()
    assert (bundle / att["path"]).read_bytes() == PNG
    assert by_id["m000003"]["body"] == BODIES[3]  # exact body, NUL included, in JSON
    xml = (bundle / "handover.xml").read_text()
    assert "\x00" not in xml and 'conformance="none"' in xml and "<Direction>fromTarget" in xml
    assert EXPORTER.public_key().raw  # exporter key is the signer


def test_substituted_epoch_key_fails_naming_the_check(tmp_path: Path) -> None:
    out = tmp_path / "forged"
    build(out, forge=True)
    report = verify_bundle(out, TRUSTED)
    assert not report.ok
    checks = {(f.file, f.check) for f in report.failures}
    assert ("provenance/partials.json", "epoch-key-log") in checks, report.failures
    assert all(f.check != "dleq" for f in report.failures)  # the partials verify under it


def test_epoch_key_inclusion_is_checked(bundle: Path) -> None:
    report = verify_bundle(bundle, TRUSTED)
    assert "EpochKey inclusion (request req-1)" in report.passed

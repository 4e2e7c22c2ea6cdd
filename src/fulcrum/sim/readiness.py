"""The readiness gate's decision (design note 09): run the evaluation and the adversarial suites,
compare every metric with the deployment policy, and produce a signed readiness record.

Policy (TOML)::

    [evaluation]          # size of the evaluation run (SimParams fields)
    users = 1000
    days = 3
    [minimums]            # metric >= value
    known_media_item_retention = 0.95
    report_verification = 1.0
    [maximums]            # metric <= value
    false_flags_per_million_accounts_month = 5000
    [adversarial]
    suites = ["tests/unit/franking", "tests/unit/escrow", ...]
    require_all_passed = true

The record is canonical JSON (RFC 8785) signed with Ed25519; the transparency log gets a
``ReadinessRecord`` entry carrying its SHA-256 digest (``append_to_log``). Operator overrides are
``E2EEOverride`` entries. The server's gate (``fulcrum.server.readiness``) reads both.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import fulcrum
from fulcrum.encoding import b64d, b64e, canonical_json
from fulcrum.hazmat.signing import SigningKey, VerifyKey
from fulcrum.hazmat.symmetric import sha256
from fulcrum.sim.params import SimParams

SCOPE = "e2ee-new-conversations"
COMPONENT = "e2ee-new-conversations"
DEFAULT_SUITES = (
    "tests/unit/franking",
    "tests/unit/escrow",
    "tests/unit/translog",
    "tests/unit/matching",
    "tests/unit/safety",
)


class ReadinessError(ValueError):
    """A malformed policy or record."""


@dataclass(frozen=True)
class ReadinessPolicy:
    evaluation: dict[str, Any] = field(default_factory=dict)
    minimums: dict[str, float] = field(default_factory=dict)
    maximums: dict[str, float] = field(default_factory=dict)
    suites: tuple[str, ...] = DEFAULT_SUITES
    require_all_passed: bool = True

    def params(self) -> SimParams:
        known = {f.name for f in fields(SimParams)}
        unknown = sorted(set(self.evaluation) - known)
        if unknown:
            raise ReadinessError(f"unknown evaluation settings {unknown}")
        ev = dict(self.evaluation)
        if "configs" in ev:
            ev["configs"] = tuple(ev["configs"])
        return SimParams(**ev)


def parse_policy(text: str) -> ReadinessPolicy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReadinessError(f"policy is not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"evaluation", "minimums", "maximums", "adversarial"})
    if unknown:
        raise ReadinessError(f"unknown policy sections {unknown}")
    adv = data.get("adversarial", {})
    for name in ("minimums", "maximums"):
        for k, v in data.get(name, {}).items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ReadinessError(f"{name}.{k} must be a number")
    return ReadinessPolicy(
        evaluation=dict(data.get("evaluation", {})),
        minimums={k: float(v) for k, v in data.get("minimums", {}).items()},
        maximums={k: float(v) for k, v in data.get("maximums", {}).items()},
        suites=tuple(adv.get("suites", DEFAULT_SUITES)),
        require_all_passed=bool(adv.get("require_all_passed", True)),
    )


def flat_metrics(results: dict[str, Any]) -> dict[str, float]:
    """The named metrics a policy can refer to (E3 = the full E2EE deployment)."""
    m = results["metrics"]
    out: dict[str, float] = {}
    for harm, by in m["retention"].items():
        v = by.get("E3", {}).get("value")
        if v is not None:
            out[f"{harm}_retention"] = float(v)
    for harm, by in m["recall"].items():
        v = by.get("E3", {}).get("value")
        if v is not None:
            out[f"{harm}_recall"] = float(v)
    items = m["known_media_items"]
    if items.get("retention") is not None:
        out["known_media_item_retention"] = float(items["retention"])
    rep = m["reports"]
    for src, dst in (
        ("verification_rate", "report_verification"),
        ("fabricated_rejected_rate", "fabricated_report_rejection"),
        ("precision", "report_precision"),
    ):
        if rep.get(src) is not None:
            out[dst] = float(rep[src])
    ops = m["operations"].get("E3", {})
    for key in (
        "fp_per_million_messages",
        "false_flags_per_million_accounts_month",
        "review_items_per_day",
        "legit_contacts_blocked_per_1k_users_week",
    ):
        if key in ops and ops[key]["value"] is not None:
            out[key] = float(ops[key]["value"])
    return out


@dataclass(frozen=True)
class SuiteResult:
    path: str
    tests: int
    failures: int
    errors: int
    skipped: int
    returncode: int

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and self.failures == 0 and self.errors == 0 and self.tests > 0


def run_suite(path: str, cwd: Path | None = None, timeout: float = 900) -> SuiteResult:
    """Run one adversarial test module or folder with pytest in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path]
        proc = subprocess.run(  # noqa: S603 - our interpreter, a policy-listed test path
            [*cmd, f"--junitxml={xml}"], cwd=cwd, capture_output=True, timeout=timeout, check=False
        )
        tests = failures = errors = skipped = 0
        if xml.exists():
            for suite in ET.parse(xml).getroot().iter("testsuite"):  # noqa: S314
                tests += int(suite.get("tests", 0))
                failures += int(suite.get("failures", 0))
                errors += int(suite.get("errors", 0))
                skipped += int(suite.get("skipped", 0))
        return SuiteResult(path, tests, failures, errors, skipped, proc.returncode)


def decide(
    policy: ReadinessPolicy, metrics: dict[str, float], suites: list[SuiteResult]
) -> tuple[bool, list[dict[str, Any]]]:
    checks: list[dict[str, Any]] = []
    for name, bound in sorted(policy.minimums.items()):
        v = metrics.get(name)
        checks.append(
            {
                "metric": name,
                "op": ">=",
                "bound": bound,
                "value": v,
                "passed": v is not None and v >= bound,
            }
        )
    for name, bound in sorted(policy.maximums.items()):
        v = metrics.get(name)
        checks.append(
            {
                "metric": name,
                "op": "<=",
                "bound": bound,
                "value": v,
                "passed": v is not None and v <= bound,
            }
        )
    if policy.require_all_passed:
        ok = all(s.passed for s in suites)
        checks.append({"metric": "adversarial_suites", "op": "all passed", "passed": ok})
    return all(c["passed"] for c in checks), checks


def build_record(
    policy_text: str,
    metrics: dict[str, float],
    suites: list[SuiteResult],
    checks: list[dict[str, Any]],
    passed: bool,
    now: int,
) -> dict[str, Any]:
    return {
        "v": 1,
        "component": COMPONENT,
        "fulcrum_version": fulcrum.__version__,
        "created_at": now,
        "policy_sha256": b64e(sha256(policy_text.encode())),
        "metrics": {k: round(v, 6) for k, v in sorted(metrics.items())},
        "suites": [s.__dict__ | {"passed": s.passed} for s in suites],
        "checks": checks,
        "passed": passed,
    }


def _canonical(obj: Any) -> bytes:
    return canonical_json(_jsonable(obj))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float):  # RFC 8785 numbers: keep floats as fixed strings
        return format(obj, ".6f")
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def sign_record(record: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    body = _canonical(record)
    return {
        "record": _jsonable(record),
        "digest": b64e(sha256(body)),
        "key": b64e(key.public_key().raw),
        "signature": b64e(key.sign(body)),
    }


def verify_signed(signed: dict[str, Any], key: VerifyKey | None = None) -> dict[str, Any]:
    """Check a signed record (against ``key`` when given); return the record."""
    body = canonical_json(signed["record"])
    vk = key or VerifyKey(b64d(signed["key"]))
    if not vk.is_valid(b64d(signed["signature"]), body) or b64d(signed["digest"]) != sha256(body):
        raise ReadinessError("the readiness record's signature does not verify")
    record: dict[str, Any] = signed["record"]
    return record


def load_or_create_key(path: Path) -> SigningKey:
    if path.exists():
        return SigningKey(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = SigningKey.generate()
    path.write_bytes(key.seed)
    path.chmod(0o600)
    return key


def log_metrics(metrics: dict[str, float]) -> dict[str, int]:
    """Integer metrics for the log entry: per-mille of each value, negatives clipped."""
    return {k[:200]: max(0, round(v * 1000)) for k, v in metrics.items()}


def now_s() -> int:
    return int(time.time())

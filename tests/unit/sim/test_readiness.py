"""Readiness decisions and signed records."""

from __future__ import annotations

from pathlib import Path

import pytest

from fulcrum.hazmat.signing import SigningKey
from fulcrum.sim.readiness import (
    ReadinessError,
    SuiteResult,
    build_record,
    decide,
    parse_policy,
    run_suite,
    sign_record,
    verify_signed,
)

pytestmark = pytest.mark.unit

POLICY = """
[evaluation]
users = 300
days = 2
[minimums]
known_media_item_retention = 0.95
report_verification = 1.0
[maximums]
false_flags_per_million_accounts_month = 5000
[adversarial]
suites = ["tests/unit/franking"]
"""
GOOD = {
    "known_media_item_retention": 1.0,
    "report_verification": 1.0,
    "false_flags_per_million_accounts_month": 100.0,
}
SUITE_OK = SuiteResult("tests/unit/franking", 10, 0, 0, 0, 0)


def test_policy_decides_each_metric() -> None:
    pol = parse_policy(POLICY)
    assert pol.params().users == 300
    ok, checks = decide(pol, GOOD, [SUITE_OK])
    assert ok and all(c["passed"] for c in checks)
    assert not decide(pol, GOOD | {"report_verification": 0.99}, [SUITE_OK])[0]
    assert not decide(pol, GOOD | {"false_flags_per_million_accounts_month": 9e3}, [SUITE_OK])[0]
    missing = {k: v for k, v in GOOD.items() if k != "report_verification"}
    assert not decide(pol, missing, [SUITE_OK])[0]
    failed_suite = SuiteResult("tests/unit/franking", 10, 1, 0, 0, 1)
    assert not decide(pol, GOOD, [failed_suite])[0]


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ReadinessError):
        parse_policy("[minimums]\nx = 'high'\n")
    with pytest.raises(ReadinessError):
        parse_policy("[surprise]\n")
    with pytest.raises(ReadinessError):
        parse_policy("[evaluation]\nno_such_knob = 1\n").params()


def test_record_is_signed_and_tamper_evident() -> None:
    pol = parse_policy(POLICY)
    ok, checks = decide(pol, GOOD, [SUITE_OK])
    record = build_record(POLICY, GOOD, [SUITE_OK], checks, ok, 1_750_000_000)
    key = SigningKey(b"\x05" * 32)
    signed = sign_record(record, key)
    assert verify_signed(signed, key.public_key())["passed"] is True
    signed["record"]["passed"] = False
    with pytest.raises(ReadinessError):
        verify_signed(signed)


def test_run_suite_counts_pass_and_fail(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        "def test_a():\n    assert True\n\ndef test_b():\n    assert 1 == 2\n"
    )
    res = run_suite(str(tmp_path / "test_x.py"), cwd=tmp_path)
    assert (res.tests, res.failures) == (2, 1) and not res.passed

from __future__ import annotations

import dataclasses
from importlib import resources

import pytest

from fulcrum.safety import PolicyError, SafetyPolicy, default_policy, parse_policy
from fulcrum.safety.policy import AdultRequestMode, UnknownAgeTreatment

pytestmark = pytest.mark.unit


def test_default_file_matches_dataclass_defaults() -> None:
    p = default_policy()
    assert p.notices.country_utc_offset_minutes["IN"] == 330
    without_countries = dataclasses.replace(
        p,
        notices=dataclasses.replace(
            p.notices, country_utc_offset_minutes=SafetyPolicy().notices.country_utc_offset_minutes
        ),
    )
    assert without_countries == SafetyPolicy()


def test_default_values_are_the_design_defaults() -> None:
    p = default_policy()
    s = p.suspicious_adult
    assert (s.complaint_window_days, s.fanout_day_threshold, s.fanout_week_threshold) == (30, 5, 10)
    assert (s.acceptance_min_requests, s.acceptance_min_rate, s.new_account_days) == (5, 0.2, 7)
    assert (s.cross_border_account_days, s.review_min_criteria) == (30, 2)
    assert (p.forwarding.max_chats, p.forwarding.frequently_forwarded_at) == (5, 5)
    assert p.forwarding.frequently_forwarded_max_chats == 1
    assert p.notices.new_media_contact_hours == 72
    assert p.notices.new_contact_days == 14
    assert p.age.unknown_age_treated_as is UnknownAgeTreatment.MINOR
    assert p.first_contact.adult_requests_to_minors is AdultRequestMode.REFUSE


def test_packaged_file_is_shipped() -> None:
    text = resources.files("fulcrum.safety").joinpath("default-policy.toml").read_text("utf-8")
    assert parse_policy(text) == default_policy()


def test_partial_policy_keeps_defaults() -> None:
    p = parse_policy("[suspicious_adult]\nfanout_day_threshold = 7\n")
    assert p.suspicious_adult.fanout_day_threshold == 7
    assert p.suspicious_adult.fanout_week_threshold == 10
    assert p.notices == SafetyPolicy().notices


def test_float_setting_accepts_integer() -> None:
    assert parse_policy("[notices]\nburst_window_minutes = 5\n").notices.burst_window_minutes == 5.0


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (
            "[suspicious_adult]\nfanout_day_threshhold = 5\n",
            "suspicious_adult.fanout_day_threshhold",
        ),
        ("[nonsense]\n", "nonsense"),
        (
            "[suspicious_adult]\nfanout_day_threshold = '5'\n",
            "suspicious_adult.fanout_day_threshold",
        ),
        (
            "[suspicious_adult]\nfanout_day_threshold = 5.5\n",
            "suspicious_adult.fanout_day_threshold",
        ),
        (
            "[suspicious_adult]\nfanout_day_threshold = true\n",
            "suspicious_adult.fanout_day_threshold",
        ),
        ("[suspicious_adult]\nfanout_day_threshold = 0\n", "suspicious_adult.fanout_day_threshold"),
        ("[suspicious_adult]\nacceptance_min_rate = 1.5\n", "suspicious_adult.acceptance_min_rate"),
        ("[suspicious_adult]\nfanout_day_hours = 0\n", "suspicious_adult.fanout_day_hours"),
        ("[suspicious_adult]\nfanout_day_hours = nan\n", "suspicious_adult.fanout_day_hours"),
        (
            "[suspicious_adult]\nadult_mutual_contact_exempts = 1\n",
            "suspicious_adult.adult_mutual_contact_exempts",
        ),
        (
            "[suspicious_adult]\nfanout_week_threshold = 3\n",
            "suspicious_adult.fanout_week_threshold",
        ),
        ("[notices]\nlate_night_start_hour = 24\n", "notices.late_night_start_hour"),
        ("[notices]\nlate_night_end_hour = 23\n", "notices.late_night_end_hour"),
        ("[notices.country_utc_offset_minutes]\ngb = 0\n", "notices.country_utc_offset_minutes.gb"),
        (
            "[notices.country_utc_offset_minutes]\nGB = 2000\n",
            "notices.country_utc_offset_minutes.GB",
        ),
        ("[notices]\ncountry_utc_offset_minutes = 3\n", "notices.country_utc_offset_minutes"),
        ("[age]\nunknown_age_treated_as = 'child'\n", "age.unknown_age_treated_as"),
        ("[age]\nyoung_minor_age = 19\n", "age.young_minor_age"),
        (
            "[first_contact]\nadult_requests_to_minors = 'sometimes'\n",
            "first_contact.adult_requests_to_minors",
        ),
        (
            "[forwarding]\nfrequently_forwarded_max_chats = 9\n",
            "forwarding.frequently_forwarded_max_chats",
        ),
        ("[reports]\nminor_reports_priority = 'urgent'\n", "reports.minor_reports_priority"),
        ("version = 2\n", "version"),
        ("groups = 3\n", "groups"),
        ("[suspicious_adult\n", "<document>"),
    ],
)
def test_invalid_policy_names_the_field(text: str, field: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    assert info.value.field == field
    assert field in str(info.value)
    assert isinstance(info.value, ValueError)


def test_zero_request_messages_is_allowed() -> None:
    assert (
        parse_policy(
            "[first_contact]\nminor_request_messages = 0\n"
        ).first_contact.minor_request_messages
        == 0
    )

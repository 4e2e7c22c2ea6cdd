"""Age bands from a birth year and the current time (both passed in).

With only a birth year, the engine assumes the *youngest* age consistent with it: on any day but
31 December someone born in year Y may still be ``current_year - Y - 1``. So an account becomes an
adult on 31 December of ``Y + adult_age`` (00:00 UTC), never earlier than anyone born that year.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from fulcrum.safety.errors import SafetyInputError
from fulcrum.safety.policy import AgePolicy, UnknownAgeTreatment

MAX_AGE_YEARS = 130


class AgeBand(enum.StrEnum):
    YOUNG_MINOR = "young_minor"  # under age.young_minor_age (16)
    MINOR = "minor"  # under age.adult_age (18), at least young_minor_age
    ADULT = "adult"
    UNKNOWN = "unknown"  # no age data on the account

    @property
    def is_minor(self) -> bool:
        return self is AgeBand.YOUNG_MINOR or self is AgeBand.MINOR


def reached_age_at(birth_year: int, age: int) -> float:
    """POSIX time from which everyone born in ``birth_year`` is at least ``age`` years old."""
    return datetime(birth_year + age, 12, 31, tzinfo=UTC).timestamp()


def check_birth_year(birth_year: int | None, now: float) -> None:
    if birth_year is None:
        return
    year = datetime.fromtimestamp(now, UTC).year
    if type(birth_year) is not int or not year - MAX_AGE_YEARS <= birth_year <= year:
        raise SafetyInputError(f"birth year {birth_year!r} is not plausible at {year}")


def age_band(birth_year: int | None, now: float, policy: AgePolicy) -> AgeBand:
    """The account's band at ``now`` (POSIX seconds). ``UNKNOWN`` when there is no birth year."""
    if birth_year is None:
        return AgeBand.UNKNOWN
    check_birth_year(birth_year, now)
    if now >= reached_age_at(birth_year, policy.adult_age):
        return AgeBand.ADULT
    if now >= reached_age_at(birth_year, policy.young_minor_age):
        return AgeBand.MINOR
    return AgeBand.YOUNG_MINOR


def effective_band(band: AgeBand, policy: AgePolicy) -> AgeBand:
    """How the rules treat ``band``: ``UNKNOWN`` maps to the policy's choice (minor by default)."""
    if band is not AgeBand.UNKNOWN:
        return band
    return {
        UnknownAgeTreatment.MINOR: AgeBand.MINOR,
        UnknownAgeTreatment.YOUNG_MINOR: AgeBand.YOUNG_MINOR,
        UnknownAgeTreatment.ADULT: AgeBand.ADULT,
    }[policy.unknown_age_treated_as]

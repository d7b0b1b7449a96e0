"""The clinic's own settings as a value, and the rule that checks a change to them.

Pure: no database, no Flask. pos/services/clinic.py stores and caches the value.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from pos.domain.errors import ValidationFailed
from pos.domain.text import text_problem

MAX_TAX_RATE_BP = 10_000  # 100 %
# Longest text of each field; the columns are this wide.
TEXT_LIMITS = {"clinic_name": 120, "address": 300, "phone": 40, "tax_id": 40,
               "receipt_footer": 500}
# A receipt footer and an address may run over several lines; the others are one line.
MULTILINE = {"address", "receipt_footer"}


class InvalidTimezone(ValidationFailed):
    code = "invalid_timezone"


class InvalidTaxRate(ValidationFailed):
    code = "invalid_tax_rate"


@dataclass(frozen=True)
class ClinicSettings:
    clinic_name: str
    address: str
    phone: str
    tax_id: str
    receipt_footer: str
    tax_rate_bp: int
    timezone: str
    # Which write of the row this is (pos/services/clinic.py: the cache's key). 0: not stored.
    version: int = 0

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


EDITABLE = tuple(f.name for f in fields(ClinicSettings) if f.name != "version")


@cache
def _zones() -> frozenset[str]:
    # Membership in the IANA list, not "ZoneInfo() did not fail": ZoneInfo also loads
    # files that are no zone a person would choose ("posixrules", "Factory").
    return frozenset(available_timezones())


def timezone_names() -> list[str]:
    """The IANA zones a clinic may choose, sorted (the settings page's list)."""
    return sorted(_zones())


def is_timezone(name: str) -> bool:
    return name in _zones()


def first_values(clinic_name: str, tax_rate_bp: int, timezone: str) -> ClinicSettings:
    """The row's first content, from the environment's CLINIC_NAME, TAX_RATE_BP and
    CLINIC_TIMEZONE, checked by the same rule as a change (a bad variable is refused)."""
    empty = ClinicSettings(clinic_name="Clinic", address="", phone="", tax_id="",
                           receipt_footer="", tax_rate_bp=0, timezone="UTC")
    return apply_changes(empty, {"clinic_name": clinic_name, "tax_rate_bp": tax_rate_bp,
                                 "timezone": timezone})


def apply_changes(current: ClinicSettings, changes: Mapping[str, object]) -> ClinicSettings:
    """`current` with `changes` applied, or ValidationFailed naming every bad field.

    A bad time zone or tax rate alone raises its own named error (invalid_timezone,
    invalid_tax_rate); several bad fields raise one validation_error listing them all.
    """
    problems: dict[str, str] = {}
    clean: dict[str, object] = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            problems[name] = "unknown setting"
        elif name == "tax_rate_bp":
            if type(value) is not int or not 0 <= value <= MAX_TAX_RATE_BP:
                problems[name] = f"a whole number of basis points from 0 to {MAX_TAX_RATE_BP}"
            else:
                clean[name] = value
        elif name == "timezone":
            if not isinstance(value, str) or not is_timezone(value):
                problems[name] = "not an IANA time zone (e.g. America/New_York)"
            else:
                clean[name] = value
        else:
            text_problem = _text_problem(name, value)
            if text_problem:
                problems[name] = text_problem
            else:
                assert isinstance(value, str)
                clean[name] = value.strip()
    if problems:
        raise _error(problems)
    return replace(current, **clean)  # type: ignore[arg-type]


def _text_problem(name: str, value: object) -> str | None:
    if not isinstance(value, str):
        return "must be text"
    text = value.strip()
    if name == "clinic_name" and not text:
        return "must not be empty"
    return text_problem(text, max_length=TEXT_LIMITS[name], multiline=name in MULTILINE)


def _error(problems: dict[str, str]) -> ValidationFailed:
    details = {"fields": problems}
    if set(problems) == {"timezone"}:
        return InvalidTimezone(f"Unknown time zone: {problems['timezone']}.", details)
    if set(problems) == {"tax_rate_bp"}:
        return InvalidTaxRate(f"The tax rate must be {problems['tax_rate_bp']}.", details)
    return ValidationFailed("Some settings are not valid: " + ", ".join(sorted(problems)) + ".",
                            details)

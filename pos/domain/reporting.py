"""Pure rules of the monthly report: clinic months, session values, changes.

No Flask and no SQLAlchemy here; the queries live in pos/services/reports/, the chart
geometry of the page in pos/web/reports/charts.py.

- A report month is the clinic's month: from midnight of its first day to midnight of
  the next month's first day, in the clinic's time zone. `month_bounds` turns it into a
  UTC half-open interval [start, end) that the queries compare timestamps with, so the
  database uses its indexes and never converts time zones row by row.
- A package purchase's value is spread over its sessions with the cumulative-floor rule:
  the k-th session of a purchase worth V with N sessions is worth
  V*k//N - V*(k-1)//N. The first n sessions are then worth exactly V*n//N, and all N
  sessions together exactly V: no cent is created or lost by rounding.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pos.domain.errors import ValidationFailed

_MONTH_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})")
MIN_YEAR = 2000
MAX_YEAR = 2999


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def shift(self, months: int) -> Month:
        index = self.year * 12 + (self.month - 1) + months
        return Month(index // 12, index % 12 + 1)

    @property
    def previous(self) -> Month:
        return self.shift(-1)

    @property
    def next(self) -> Month:
        return self.shift(1)

    @property
    def same_month_last_year(self) -> Month:
        return self.shift(-12)

    @property
    def days(self) -> list[date]:
        first, after = self.first_day, self.next.first_day
        return [first + timedelta(days=n) for n in range((after - first).days)]

    @property
    def label(self) -> str:
        return self.first_day.strftime("%B %Y")


def parse_month(text: object) -> Month:
    """"YYYY-MM" -> Month; anything else is a 422 validation_error."""
    match = _MONTH_PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValidationFailed("month must be written YYYY-MM, e.g. 2026-03.",
                               {"fields": {"month": "must be YYYY-MM"}})
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValidationFailed("month must be between 01 and 12.",
                               {"fields": {"month": "month must be 01 to 12"}})
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(f"year must be between {MIN_YEAR} and {MAX_YEAR}.",
                               {"fields": {"month": "year out of range"}})
    return Month(year, month)


def clinic_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant of midnight at the start of `day` in the clinic's zone."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The clinic month as a UTC half-open interval [start, end)."""
    m = Month(year, month)
    return clinic_midnight_utc(m.first_day, tz), clinic_midnight_utc(m.next.first_day, tz)


def day_starts_utc(month: Month, tz: ZoneInfo) -> list[datetime]:
    """UTC start of each clinic day of the month (days can be 23 or 25 hours long)."""
    return [clinic_midnight_utc(day, tz) for day in month.days]


def sessions_value(value_cents: int, sessions_total: int, sessions: int) -> int:
    """The value of a purchase's first `sessions` sessions (cumulative-floor rule)."""
    if sessions_total <= 0:
        return 0
    sessions = max(0, min(sessions, sessions_total))
    return value_cents * sessions // sessions_total


def session_value(value_cents: int, sessions_total: int, k: int) -> int:
    """The value of the k-th session (1-based) of a purchase."""
    return (sessions_value(value_cents, sessions_total, k)
            - sessions_value(value_cents, sessions_total, k - 1))


def rounded_ratio(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers; 0 if nothing to divide."""
    if denominator == 0:
        return 0
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


def change_bp(current: int, before: int) -> int | None:
    """The change from `before` to `current` in basis points (1250 = +12.50 %); None from 0."""
    if before == 0:
        return None
    return rounded_ratio((current - before) * 10_000, abs(before))


def format_change_bp(bp: int | None) -> str:
    if bp is None:
        return "n/a"
    sign = "+" if bp > 0 else "-" if bp < 0 else ""
    whole, rest = divmod(abs(bp), 100)
    return f"{sign}{whole}.{rest:02d} %"

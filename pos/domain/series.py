"""Series rhythm and redemption: sessions of a package at least 4 weeks apart, ideally
at most 6, and never more sessions than were paid for. Pure rules, no Flask or database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pos.domain.errors import PosError

# The clinic recommends sessions 4-6 weeks apart; packages may override.
MIN_DAYS_DEFAULT = 28
MAX_DAYS_DEFAULT = 42


class TooSoon(PosError):
    code = "too_soon"
    status = 422


class NoSessionsLeft(PosError):
    code = "no_sessions_left"
    status = 409


@dataclass(frozen=True)
class Spacing:
    """Allowed; off_rhythm flags a session later than recommended (allowed, but worth noting)."""

    off_rhythm: bool
    days_since_last: int | None


def next_eligible_on(last_session_on: date | None, min_days: int) -> date | None:
    """First date the next session may be performed; None when there is no previous session."""
    if last_session_on is None:
        return None
    return last_session_on + timedelta(days=min_days)


def check_spacing(
    last_session_on: date | None, today: date, min_days: int, max_days: int | None
) -> Spacing:
    """Refuse a session fewer than min_days after the previous one of the same purchase.

    Dates are clinic-local calendar dates, so "28 days" means 28 clinic days whatever the
    hour of the visit.
    """
    if min_days < 0 or (max_days is not None and max_days < min_days):
        raise ValueError("package spacing must satisfy 0 <= min_days <= max_days")
    if last_session_on is None:
        return Spacing(off_rhythm=False, days_since_last=None)
    eligible_on = last_session_on + timedelta(days=min_days)
    if today < eligible_on:
        raise TooSoon(
            f"Too soon for the next session of this package: sessions must be at least "
            f"{min_days} days apart; eligible on or after {eligible_on.isoformat()}.",
            {"eligible_on": eligible_on.isoformat()},
        )
    days = (today - last_session_on).days
    return Spacing(off_rhythm=max_days is not None and days > max_days, days_since_last=days)


def check_sessions_left(sessions_total: int, sessions_used: int) -> int:
    """Sessions left before this one is redeemed; refuse when none remain."""
    left = sessions_total - sessions_used
    if left <= 0:
        raise NoSessionsLeft(
            f"This package has no sessions left ({sessions_used} of {sessions_total} used).",
            {"sessions_total": sessions_total, "sessions_used": sessions_used},
        )
    return left


# -- refunding the unused sessions of a purchase --------------------------------------------
#
# A purchase of n sessions worth `value` (its share of the line's net, tax excluded) is
# worth value * k // n for its first k sessions: the package liability's own rule
# (pos/services/reports/liability.py). Sessions are performed from the first and refunded
# from the last, so each session's share is value * i // n - value * (i - 1) // n: the
# cents that do not divide go to the later sessions, the last one carrying the remainder
# (3 sessions of 100.00: 33.33, 33.33, 33.34), and every session of the purchase, performed
# or refunded in any order, adds up to exactly its value. The liability falls by exactly
# what a refund of sessions gives back.


def session_shares(value_cents: int, sessions: int) -> list[int]:
    """Each session's share of the purchase's value, in session order."""
    if sessions < 1 or value_cents < 0:
        raise ValueError("a purchase has at least one session and a value of at least 0")
    return [value_cents * i // sessions - value_cents * (i - 1) // sessions
            for i in range(1, sessions + 1)]


def value_of_refunded_sessions(value_cents: int, sessions_total: int, refunded_before: int,
                               count: int) -> int:
    """The value of `count` more sessions refunded from the end of a purchase whose last
    `refunded_before` sessions were already refunded."""
    if count < 0 or refunded_before < 0 or refunded_before + count > sessions_total:
        raise ValueError("cannot refund more sessions than the purchase holds")
    remaining_after = sessions_total - refunded_before - count
    remaining_before = sessions_total - refunded_before
    return (value_cents * remaining_before // sessions_total
            - value_cents * remaining_after // sessions_total)

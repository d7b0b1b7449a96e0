"""Counting failed sign-ins (passwords and PINs) per account and per client address.

An attempt is counted as a failure *before* its password is checked, under the row locks
of its counters, and taken back if it succeeds. So the check is atomic: 30 concurrent
wrong guesses for one account count 30, and only the first ones within the limit ever
reach the (slow) password check; the rest are refused at once.

Two keys per attempt: `account:<who>` (5 failures in 15 min, then a growing back-off) and
`address:<ip>` (50 in 15 min, until the window ends). The address limit is high because
a whole clinic signs in from one address; one user's failures never block another user.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pos.domain.errors import PosError
from pos.domain.throttle import backoff_seconds
from pos.models import LoginThrottle
from pos.services import clock
from pos.services.transaction import write_transaction
from pos.settings import Settings


class TooManyAttempts(PosError):
    code = "too_many_attempts"
    status = 429


@dataclass(frozen=True)
class ThrottleLimits:
    account_max_failures: int
    address_max_failures: int
    window_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> ThrottleLimits:
        return cls(settings.login_max_failures, settings.login_address_max_failures,
                   settings.login_window_seconds)


@dataclass(frozen=True)
class Attempt:
    """An attempt counted in advance; `succeeded()` or nothing (it stays a failure)."""

    account_key: str
    address_key: str
    limits: ThrottleLimits


def account_key(who: str) -> str:
    return f"account:{who}"[:300]


def address_key(client_address: str) -> str:
    return f"address:{client_address}"[:300]


def _locked_row(session: Session, key: str, now: datetime) -> LoginThrottle:
    # Make sure the row exists (a concurrent attempt may be inserting it too), then lock it.
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(LoginThrottle).values(
        key=key, failures=0, window_started_at=now).on_conflict_do_nothing())
    return session.execute(select(LoginThrottle).where(LoginThrottle.key == key)
                           .with_for_update().execution_options(populate_existing=True)
                           ).scalar_one()


def _start_window_if_over(row: LoginThrottle, limits: ThrottleLimits, now: datetime) -> None:
    window_over = now >= row.window_started_at + timedelta(seconds=limits.window_seconds)
    still_blocked = row.blocked_until is not None and now < row.blocked_until
    if window_over and not still_blocked:
        row.failures, row.window_started_at, row.blocked_until = 0, now, None


def begin_attempt(account: str, client_address: str, limits: ThrottleLimits,
                  now: datetime) -> Attempt:
    """Count this attempt as a failure now, or raise TooManyAttempts (also counted against
    the key that is blocked). The transaction commits before the caller checks a hash."""
    keys = (account_key(account), address_key(client_address))
    refused_until: datetime | None = None
    with write_transaction() as session:
        # Always the same lock order (sorted keys), so two attempts cannot deadlock.
        rows = {key: _locked_row(session, key, now) for key in sorted(keys)}
        account_row, address_row = rows[keys[0]], rows[keys[1]]
        for row in (account_row, address_row):
            _start_window_if_over(row, limits, now)
        blocked = [row for row in (account_row, address_row)
                   if row.blocked_until is not None and now < row.blocked_until]
        if blocked:
            for row in blocked:
                row.failures += 1
            refused_until = max(row.blocked_until for row in blocked
                                if row.blocked_until is not None)
        else:
            account_row.failures += 1
            wait = backoff_seconds(account_row.failures, limits.account_max_failures)
            if wait:
                account_row.blocked_until = now + timedelta(seconds=wait)
            address_row.failures += 1
            if address_row.failures >= limits.address_max_failures:
                address_row.blocked_until = address_row.window_started_at + timedelta(
                    seconds=limits.window_seconds)
    if refused_until is not None:
        minutes = max(1, round((refused_until - now).total_seconds() / 60))
        raise TooManyAttempts(
            "Too many failed sign-ins. Wait a few minutes before trying again "
            f"(about {minutes} min).", {"retry_after_seconds": max(
                1, int((refused_until - now).total_seconds()))})
    return Attempt(keys[0], keys[1], limits)


def attempt_succeeded(attempt: Attempt) -> None:
    """The account starts afresh; the address gives back the failure counted in advance."""
    with write_transaction() as session:
        for key in sorted((attempt.account_key, attempt.address_key)):
            row = session.execute(select(LoginThrottle).where(LoginThrottle.key == key)
                                  .with_for_update()).scalar_one_or_none()
            if row is None:
                continue
            if key == attempt.account_key:
                session.delete(row)
            else:
                row.failures = max(row.failures - 1, 0)
                if row.failures < attempt.limits.address_max_failures:
                    row.blocked_until = None


def failures_counted(session: Session, account: str) -> int:
    """The account's failures in its current window (tests and the lock screen)."""
    row = session.get(LoginThrottle, account_key(account))
    return 0 if row is None else row.failures


# A counter whose window closed a day ago and that blocks nobody counts nothing any more
# (a window is minutes long): it only grows the table, one row per email or address ever
# mistyped.
KEEP_COUNTERS = timedelta(days=1)


def purge_stale(now: datetime | None = None) -> int:
    """Delete the counters that no longer count (run by `pos worker`)."""
    now = now or clock.now()
    with write_transaction() as session:
        result = session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.window_started_at < now - KEEP_COUNTERS,
                or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until < now)),
            execution_options={"synchronize_session": False})
    return int(result.rowcount)  # type: ignore[attr-defined]

"""Signing in (password or PIN), changing one's password and setting one's PIN.

Every check of a secret goes through the throttle (pos/services/throttle.py) first, so a
PIN or a "current password" can be guessed no faster than a sign-in password. A wrong
email and a wrong password do the same database work and check one Argon2 hash each, so
neither the time nor the message tells which emails exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos.domain.errors import PosError, ValidationFailed
from pos.domain.pins import is_valid_pin
from pos.domain.statuses import SessionEndReason, SessionOrigin
from pos.extensions import db
from pos.models import Location, StaffPin, User
from pos.services import audit, clock, sessions, staff, throttle
from pos.services.throttle import ThrottleLimits
from pos.services.transaction import write_transaction
from pos.settings import Settings


class WrongPassword(PosError):
    code = "wrong_password"
    status = 422


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_key: str


def sign_in_with_password(email: str, password: str, client_address: str, *,
                          desk_key: str | None, settings: Settings,
                          location_id: int | None = None) -> SignedIn | None:
    """A new session for these credentials, or None; TooManyAttempts past the limits.
    `location_id`: where this browser works (None or unknown: the user's home)."""
    email = staff.normalise_email(email)
    now = clock.now()
    attempt = throttle.begin_attempt(email, client_address, ThrottleLimits.of(settings), now)
    session = db.session()
    user = session.scalar(select(User).where(User.email == email))
    # The hash is checked outside any write transaction (it is slow on purpose), against a
    # stand-in hash when the email is unknown.
    stored_hash = user.password_hash if user is not None else staff.unknown_user_hash(session)
    if not staff.password_matches(session, stored_hash, password) or user is None \
            or not user.active:
        return None
    throttle.attempt_succeeded(attempt)
    with write_transaction() as session:
        user = session.get_one(User, user.id)
        if staff.needs_rehash(session, user.password_hash):
            user.password_hash = staff.hash_password(session, password)
        if location_id is not None and session.get(Location, location_id) is None:
            location_id = None
        key = sessions.start_session(session, user.id, desk_key, SessionOrigin.PASSWORD, now,
                                     location_id)
    return SignedIn(user, key)


def unlock_with_pin(user_id: int, pin: str, client_address: str, *, desk_key: str | None,
                    settings: Settings) -> SignedIn | None:
    """A new session for a user of this desk whose PIN this is, or None."""
    now = clock.now()
    session = db.session()
    user = session.get(User, user_id)
    # Counted against the same account as its password: a PIN adds no guesses.
    who = user.email if user is not None else f"#{user_id}"
    attempt = throttle.begin_attempt(who, client_address, ThrottleLimits.of(settings), now)
    pin_hash = session.scalar(select(StaffPin.pin_hash).where(StaffPin.user_id == user_id))
    matches = staff.password_matches(
        session, pin_hash or staff.unknown_user_hash(session), pin)
    if not matches or pin_hash is None or user is None or not user.active:
        return None
    if not sessions.is_desk_member(session, desk_key, user_id,
                                   membership_hours=settings.desk_membership_hours, now=now):
        return None
    throttle.attempt_succeeded(attempt)
    location_id = sessions.desk_location(session, desk_key)
    with write_transaction() as session:
        key = sessions.start_session(session, user_id, desk_key, SessionOrigin.PIN, now,
                                     location_id)
    return SignedIn(session.get_one(User, user_id), key)


def _check_current_password(user: User, password: str, client_address: str,
                            settings: Settings, now: datetime) -> throttle.Attempt:
    attempt = throttle.begin_attempt(user.email, client_address, ThrottleLimits.of(settings),
                                     now)
    if not staff.password_matches(db.session(), user.password_hash, password):
        raise WrongPassword("The current password is not right.",
                            {"fields": {"current_password": "not right"}})
    throttle.attempt_succeeded(attempt)
    return attempt


def change_password(user_id: int, current_password: str, new_password: str,
                    client_address: str, *, keep_key: str | None, settings: Settings) -> int:
    """Set a new password; every other session of the user ends. Returns how many ended."""
    if len(new_password) < staff.MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Passwords need at least {staff.MIN_PASSWORD_LENGTH} characters.",
            {"fields": {"new_password": "too short"}})
    now = clock.now()
    user = db.session().get_one(User, user_id)
    _check_current_password(user, current_password, client_address, settings, now)
    new_hash = staff.hash_password(db.session(), new_password)
    with write_transaction() as session:
        session.get_one(User, user_id).password_hash = new_hash
        ended = sessions.end_user_sessions(session, user_id, keep_key=keep_key,
                                           reason=SessionEndReason.PASSWORD_CHANGED, now=now)
        audit.record(session, user_id, "user.password_change", "user", user_id,
                     sessions_ended=ended)
    return ended


def set_pin(user_id: int, pin: str, current_password: str, client_address: str, *,
            settings: Settings) -> None:
    if not is_valid_pin(pin):
        raise ValidationFailed("A PIN is 4 to 8 digits.", {"fields": {"pin": "4 to 8 digits"}})
    now = clock.now()
    user = db.session().get_one(User, user_id)
    _check_current_password(user, current_password, client_address, settings, now)
    pin_hash = staff.hash_password(db.session(), pin)
    with write_transaction() as session:
        row = session.get(StaffPin, user_id)
        if row is None:
            session.add(StaffPin(user_id=user_id, pin_hash=pin_hash, updated_at=now))
        else:
            row.pin_hash, row.updated_at = pin_hash, now
        audit.record(session, user_id, "user.pin_set", "user", user_id)


def has_pin(session: Session, user_id: int) -> bool:
    return session.get(StaffPin, user_id) is not None

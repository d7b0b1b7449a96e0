"""Server-side staff sessions and desks.

A browser's session cookie carries only a random key (256 bits); the table keeps its
SHA-256. A session ends at sign-out, at a password change (the user's other sessions),
when `end_user_sessions` is called (deactivation, a change of roles), or after
`session_idle_minutes` without a request (then the desk shows its lock screen).

A desk is a browser, known by a long-lived random `desk` cookie set at a full sign-in.
Whoever signed in with a password on a desk within `desk_membership_hours` may unlock it
with their PIN (pos/services/signin.py).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.orm import Session

from pos.domain.statuses import SessionEndReason, SessionOrigin
from pos.models import StaffPin, StaffSession, User
from pos.services import clinic, clock
from pos.services.transaction import write_transaction

# last_seen_at is written at most this often per session: not one write per request.
TOUCH_EVERY = timedelta(seconds=60)


def new_key() -> str:
    return secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(session: Session, user_id: int, desk_key: str | None, origin: SessionOrigin,
                  now: datetime, location_id: int | None = None) -> str:
    """A new session for the user, in the caller's transaction; returns the cookie's key."""
    key = new_key()
    session.add(StaffSession(key_hash=digest(key), user_id=user_id,
                             desk_hash=digest(desk_key) if desk_key else None,
                             origin=origin, created_at=now, last_seen_at=now,
                             location_id=location_id))
    return key


@dataclass(frozen=True)
class Loaded:
    user: User | None
    # The location this browser works at (chosen at sign-in); None: the user's home.
    location_id: int | None = None
    # True when the key named a session that just went idle: the page shows the lock screen.
    idle: bool = False


def _session_lookup() -> Select[tuple[StaffSession, User, int]]:
    # One statement per signed-in request: the session, its user, and the clinic settings'
    # version (see pos/services/clinic.py), so the page pays nothing more for either.
    return (select(StaffSession, User, clinic.with_version())
            .join(User, User.id == StaffSession.user_id)
            .where(StaffSession.key_hash == bindparam("key_hash"),
                   StaffSession.ended_at.is_(None)))


_SESSION_LOOKUP = _session_lookup()


def load(session: Session, key: str, *, idle_minutes: int, now: datetime) -> Loaded:
    """The signed-in user for this cookie key, or None (ended, idle, unknown, inactive)."""
    found = session.execute(_SESSION_LOOKUP, {"key_hash": digest(key)}).first()
    if found is None:
        return Loaded(None)
    staff_session, user, version = found
    clinic.note_version(session, version)
    if not user.active:
        return Loaded(None)
    if now - staff_session.last_seen_at >= timedelta(minutes=idle_minutes):
        _end(staff_session.id, SessionEndReason.IDLE, now)
        return Loaded(None, idle=True)
    if now - staff_session.last_seen_at >= TOUCH_EVERY:
        with write_transaction() as writing:
            writing.execute(update(StaffSession).where(StaffSession.id == staff_session.id)
                            .values(last_seen_at=now))
    return Loaded(user, staff_session.location_id)


def _end(session_id: int, reason: SessionEndReason, now: datetime) -> None:
    with write_transaction() as session:
        session.execute(update(StaffSession)
                        .where(StaffSession.id == session_id, StaffSession.ended_at.is_(None))
                        .values(ended_at=now, end_reason=reason))


def end_session(session: Session, key: str, reason: SessionEndReason, now: datetime) -> None:
    """End the session of this cookie key (sign-out), in the caller's transaction."""
    session.execute(update(StaffSession)
                    .where(StaffSession.key_hash == digest(key),
                           StaffSession.ended_at.is_(None))
                    .values(ended_at=now, end_reason=reason))


def end_user_sessions(session: Session, user_id: int, *, keep_key: str | None = None,
                      reason: SessionEndReason = SessionEndReason.REVOKED,
                      now: datetime | None = None) -> int:
    """End every open session of the user (but `keep_key`'s), in the caller's transaction:
    their next request goes to the sign-in page. Deactivation and a change of roles call it.
    Returns how many ended. API tokens are not sessions: they are revoked on their own."""
    conditions = [StaffSession.user_id == user_id, StaffSession.ended_at.is_(None)]
    if keep_key is not None:
        conditions.append(StaffSession.key_hash != digest(keep_key))
    result = session.execute(update(StaffSession).where(*conditions)
                             .values(ended_at=now or clock.now(), end_reason=reason))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DeskMember:
    user_id: int
    name: str


def desk_members(session: Session, desk_key: str | None, *, membership_hours: int,
                 now: datetime) -> list[DeskMember]:
    """Active users with a PIN who signed in with a password on this desk lately: the
    people the lock screen offers."""
    if not desk_key:
        return []
    since = now - timedelta(hours=membership_hours)
    rows = session.execute(
        select(User.id, User.name).join(StaffPin, StaffPin.user_id == User.id)
        .where(User.active.is_(True), User.id.in_(
            select(StaffSession.user_id).where(
                StaffSession.desk_hash == digest(desk_key),
                StaffSession.origin == SessionOrigin.PASSWORD,
                StaffSession.created_at >= since)))
        .order_by(User.name, User.id)).all()
    return [DeskMember(user_id, name) for user_id, name in rows]


def desk_location(session: Session, desk_key: str | None) -> int | None:
    """The location of the desk's latest session: a PIN unlock goes on working there."""
    if not desk_key:
        return None
    return session.scalar(select(StaffSession.location_id).where(
        StaffSession.desk_hash == digest(desk_key))
        .order_by(StaffSession.created_at.desc(), StaffSession.id.desc()).limit(1))


def is_desk_member(session: Session, desk_key: str | None, user_id: int, *,
                   membership_hours: int, now: datetime) -> bool:
    if not desk_key:
        return False
    since = now - timedelta(hours=membership_hours)
    return session.scalar(select(StaffSession.id).where(
        StaffSession.desk_hash == digest(desk_key), StaffSession.user_id == user_id,
        StaffSession.origin == SessionOrigin.PASSWORD,
        StaffSession.created_at >= since).limit(1)) is not None


# Sessions unseen for this long are gone from every use (the idle timeout is minutes, desk
# membership hours); kept a month as a record of who signed in where, then deleted.
KEEP_SESSIONS = timedelta(days=30)


def purge_stale(now: datetime | None = None) -> int:
    """Delete sessions unseen for KEEP_SESSIONS (run by `pos worker`)."""
    cutoff = (now or clock.now()) - KEEP_SESSIONS
    with write_transaction() as session:
        result = session.execute(delete(StaffSession).where(StaffSession.last_seen_at < cutoff),
                                 execution_options={"synchronize_session": False})
    return int(result.rowcount)  # type: ignore[attr-defined]

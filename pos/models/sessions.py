"""Server-side staff sessions, staff PINs and sign-in throttle counters."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pos.domain.statuses import SessionEndReason, SessionOrigin, check_in
from pos.extensions import db
from pos.models.types import UTCDateTime, utcnow


class StaffSession(db.Model):
    """One signed-in browser. The cookie holds a random key; only its SHA-256 is kept here,
    so a copy of the database cannot be replayed as a cookie."""

    __tablename__ = "staff_sessions"
    __table_args__ = (
        CheckConstraint(check_in("origin", SessionOrigin), name="origin_known"),
        CheckConstraint(f"end_reason IS NULL OR {check_in('end_reason', SessionEndReason)}",
                        name="end_reason_known"),
        Index("ix_staff_sessions_user_id_ended_at", "user_id", "ended_at"),
        Index("ix_staff_sessions_desk_hash_created_at", "desk_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # SHA-256 of the browser's `desk` cookie: who signed in fully here may unlock it by PIN.
    desk_hash: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))
    # The location this browser works at, chosen at sign-in (None: the user's home).
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))


class StaffPin(db.Model):
    """A user's PIN, Argon2id-hashed like a password. Its own table: users stay as they are."""

    __tablename__ = "staff_pins"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginThrottle(db.Model):
    """Failed sign-ins (password or PIN) counted per key: `account:<email>` or
    `address:<ip>`. One row per key, updated under its row lock, so concurrent guesses
    each count (see pos/services/throttle.py)."""

    __tablename__ = "login_throttles"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_not_negative"),)

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

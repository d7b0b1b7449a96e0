"""Staff accounts, API tokens and the audit log (sessions: pos/models/sessions.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from pos.domain.roles import (
    Role,
    RoleSet,
    all_role_sets,
    roles_allow,
    roles_from_text,
    roles_text,
    sorted_roles,
)
from pos.extensions import db
from pos.models.types import UTCDateTime, utcnow


class RoleSetText(TypeDecorator[RoleSet]):
    """A set of roles kept as its canonical text ("provider,manager"); the CHECK below lists
    the 15 canonical sets, so the database refuses an unknown role or an empty set."""

    impl = String(60)
    cache_ok = True

    def process_bind_param(self, value: RoleSet | None, dialect: Any) -> str | None:
        return None if value is None else roles_text(value)

    def process_result_value(self, value: str | None, dialect: Any) -> RoleSet | None:
        return None if value is None else roles_from_text(value)


ROLES_KNOWN_SQL = "roles IN ({})".format(
    ", ".join(f"'{roles_text(s)}'" for s in all_role_sets()))


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(ROLES_KNOWN_SQL, name="roles_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    roles: Mapped[RoleSet] = mapped_column(RoleSetText)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where the user works unless a sign-in chose otherwise (None: the clinic's first).
    home_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def roles_label(self) -> str:
        """The roles for people: "provider, manager"."""
        return ", ".join(r.value.replace("_", " ") for r in sorted_roles(self.roles))

    def has_role(self, minimum: str | Role) -> bool:
        """Whether this user meets a requirement (pos.domain.roles.roles_allow)."""
        return roles_allow(self.roles, minimum)


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is kept (tokens are 256 random bits, no salt needed)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Refused from this moment (the end of the chosen day, clinic time); None: no expiry.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class PasswordLink(db.Model):
    """A set-password link sent by email: single use, valid until `expires_at`. Only the
    SHA-256 of its secret is kept."""

    __tablename__ = "password_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ClientRecordRead(db.Model):
    """One look at a client's record by a staff member; kept a short while, to notice bulk
    reading (pos/services/need_to_know.py). Ids only."""

    __tablename__ = "client_record_reads"
    __table_args__ = (Index("ix_client_record_reads_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class BulkReadBurst(db.Model):
    """The burst of reading a user is in, if any: the admins were told when it began and are
    not told again until a whole window passes without the user over the limit."""

    __tablename__ = "bulk_read_bursts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_over_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(db.Model):
    """Who changed what. `details` never holds health or contact data, only ids and figures."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()


class Setting(db.Model):
    """Clinic settings an admin may change at run time (changes are audited)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))

"""Stripe Terminal: the clinic's card readers, and the Terminal Location each clinic
location is registered under at the payment provider (created once, then reused)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pos.domain.statuses import ReaderStatus, check_in
from pos.extensions import db
from pos.models.types import UTCDateTime, utcnow


class TerminalLocation(db.Model):
    """The provider's Terminal Location of one clinic location, per gateway (stripe/demo)."""

    __tablename__ = "terminal_locations"
    __table_args__ = (UniqueConstraint("location_id", "gateway"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    gateway: Mapped[str] = mapped_column(String(10))
    provider_location_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TerminalReader(db.Model):
    __tablename__ = "terminal_readers"
    __table_args__ = (
        CheckConstraint(f"status IS NULL OR {check_in('status', ReaderStatus)}",
                        name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stripe's reader id (tmr_...), or the demo gateway's.
    provider_reader_id: Mapped[str] = mapped_column(String(255), unique=True)
    gateway: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(100))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    provider_location_id: Mapped[str] = mapped_column(String(255))
    device_type: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Stock alerts and the outbox that delivers alerts, receipts and reports."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.extensions import db
from pos.models.catalog import Item
from pos.models.inventory import Location, Lot
from pos.models.types import UTCDateTime, utcnow


class Alert(db.Model):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # low_stock | out_of_stock | expiring_lot
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    # The location whose stock fell (set only when the clinic has several locations).
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    on_hand: Mapped[int]
    available: Mapped[int]
    reorder_point: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    item: Mapped[Item] = relationship()
    location: Mapped[Location | None] = relationship()
    lot: Mapped[Lot | None] = relationship()


class OutboxMessage(db.Model):
    """A message written in the same transaction as its cause, delivered after commit."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | webhook
    topic: Mapped[str] = mapped_column(String(20))  # alert | digest | receipt | report
    # Makes "once per day" or "once per month" a unique constraint, not a hope.
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    recipients: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))

    alert: Mapped[Alert | None] = relationship()

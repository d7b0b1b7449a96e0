"""Stock: locations, lots, the append-only ledger and the on-hand caches it feeds.

The ledger (`stock_movements`) is the truth. `item_stock` (per item and location) and
`lot_stock` (per lot and location) are caches written only in the same transaction as
the movement that changes them; CHECK constraints make the database itself refuse a
negative on-hand or a hold larger than what is there.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.extensions import db
from pos.models.catalog import Item
from pos.models.types import UTCDateTime, utcnow

DEFAULT_LOCATION_CODE = "main"


class Location(db.Model):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)


class Lot(db.Model):
    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("item_id", "code"),
        CheckConstraint("unit_cost_cents >= 0", name="unit_cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    code: Mapped[str] = mapped_column(String(60), index=True)
    expires_on: Mapped[date | None]
    # Cost at receipt: what a treatment that used this lot really cost (monthly report).
    unit_cost_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set once the `expiring_lot` alert for this lot has been raised: never twice.
    expiry_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    item: Mapped[Item] = relationship()


class ItemStock(db.Model):
    """On hand and held per item and location; the row writers lock, in item-id order."""

    __tablename__ = "item_stock"
    __table_args__ = (
        UniqueConstraint("item_id", "location_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("held >= 0", name="held_not_negative"),
        CheckConstraint("held <= on_hand", name="held_within_on_hand"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    on_hand: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)

    item: Mapped[Item] = relationship()

    @property
    def available(self) -> int:
        return self.on_hand - self.held


class LotStock(db.Model):
    __tablename__ = "lot_stock"
    __table_args__ = (
        UniqueConstraint("lot_id", "location_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    on_hand: Mapped[int] = mapped_column(default=0)

    lot: Mapped[Lot] = relationship()


class StockMovement(db.Model):
    """One line of the ledger. Appended, never updated or deleted."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("qty_delta <> 0", name="moves_something"),
        Index("ix_stock_movements_item_at", "item_id", "at"),
        Index("ix_stock_movements_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    qty_delta: Mapped[int]
    # receipt, count, damaged, expired, lost, found, other, sale, refund, treatment,
    # treatment_void, first_visit_bundle
    reason: Mapped[str] = mapped_column(String(30))
    # What caused it, e.g. "sale:12", "treatment:7", "receipt".
    reference: Mapped[str | None] = mapped_column(String(60), index=True)
    note: Mapped[str | None] = mapped_column(String(500))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    item: Mapped[Item] = relationship()
    lot: Mapped[Lot] = relationship()

"""Cash drawers: opened with a float, fed by cash sales, refunds and paid in/out, counted
and closed. Closing a drawer never stops the desk: the next cash sale opens a new one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.domain.statuses import DrawerEntryKind, DrawerStatus, check_in
from pos.extensions import db
from pos.models.types import UTCDateTime, utcnow

# One open drawer per location, kept by the database itself: two desks opening at once,
# or two first cash sales of the morning, cannot make two (the loser's insert conflicts).
OPEN_DRAWER_WHERE = text("status = 'open'")


class Drawer(db.Model):
    __tablename__ = "drawers"
    __table_args__ = (
        CheckConstraint(check_in("status", DrawerStatus), name="status_known"),
        CheckConstraint("opening_float_cents >= 0", name="float_not_negative"),
        Index("uq_drawers_one_open_per_location", "location_id", unique=True,
              postgresql_where=OPEN_DRAWER_WHERE, sqlite_where=OPEN_DRAWER_WHERE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    status: Mapped[str] = mapped_column(String(20), default=DrawerStatus.OPEN)
    opening_float_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Written when the drawer is closed (the figures as they were counted: the Z report).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cash_sales_cents: Mapped[int | None] = mapped_column(BigInteger)
    cash_refunds_cents: Mapped[int | None] = mapped_column(BigInteger)
    paid_in_cents: Mapped[int | None] = mapped_column(BigInteger)
    paid_out_cents: Mapped[int | None] = mapped_column(BigInteger)
    expected_cents: Mapped[int | None] = mapped_column(BigInteger)
    counted_cents: Mapped[int | None] = mapped_column(BigInteger)
    over_short_cents: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(500))

    opened_by = relationship("User", foreign_keys=[opened_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])


class DrawerEntry(db.Model):
    """One movement of cash in or out of a drawer; appended, never edited."""

    __tablename__ = "drawer_entries"
    __table_args__ = (
        CheckConstraint(check_in("kind", DrawerEntryKind), name="kind_known"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    drawer_id: Mapped[int] = mapped_column(ForeignKey("drawers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")

"""The front desk's carts: the cart a desk is building, and the sales parked for later.

A desk is a browser (its long-lived `desk_cart` cookie). Its cart lives here, not in the
page, so a refresh or a trip to the client's page keeps it. A parked sale is a cart taken
off its desk (`desk_key` NULL) under a label, until a desk (or an API client) resumes it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.extensions import db
from pos.models.sales import Client
from pos.models.staff import User
from pos.models.types import UTCDateTime, utcnow

DESK_KEY_LENGTH = 64
LABEL_LENGTH = 80
DISCOUNT_CODE_LENGTH = 40


class DeskCart(db.Model):
    __tablename__ = "desk_carts"
    __table_args__ = (
        # A desk's own cart is never parked; a parked sale belongs to no desk.
        CheckConstraint("(parked AND desk_key IS NULL) OR (NOT parked AND desk_key IS NOT NULL)",
                        name="parked_has_no_desk"),
        # Newest first in the parked list; oldest first for the purge.
        Index("ix_desk_carts_parked_updated_at", "parked", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: one cart per desk (NULLs, the parked sales, do not collide).
    desk_key: Mapped[str | None] = mapped_column(String(DESK_KEY_LENGTH), unique=True)
    parked: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    # Who last changed it (or parked it).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # [{"sku" | "package_code": str, "quantity": int}], the shape of the API's CartLineIn:
    # written only from validated lines (pos.services.carts), read back through it too.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    discount_code: Mapped[str | None] = mapped_column(String(DISCOUNT_CODE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client | None] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")

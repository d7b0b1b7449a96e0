"""The tenders of a sale: one row per way the sale is paid (saleor's TransactionItem).

Today a sale has one tender, cash or a Stripe Checkout Session; later tenders (terminal,
gift card, account credit, several at once) are more rows of the same table. The
processor's ids live here and only here: a sale finds its Checkout Session through its
card tender.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.domain.statuses import PaymentMethod, PaymentStatus, check_in
from pos.extensions import db
from pos.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from pos.models.sales import Sale


class Payment(db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(check_in("status", PaymentStatus), name="status_known"),
        CheckConstraint(check_in("method", PaymentMethod), name="method_known"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint("tip_cents >= 0", name="tip_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # tax included, tip excluded
    status: Mapped[str] = mapped_column(String(20))
    # Stripe's ids: the Checkout Session the app created for this tender (unique: an event
    # is matched to its tender by it) and the PaymentIntent that paid it.
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    card_brand: Mapped[str | None] = mapped_column(String(20))
    last4: Mapped[str | None] = mapped_column(String(4))
    tip_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # A terminal tender: the reader it was handed to, and why the last attempt failed (the
    # reader's decline message or the provider's refusal; never card data). Cleared on retry.
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("terminal_readers.id"))
    last_error: Mapped[str | None] = mapped_column(String(300))
    # Who the tip goes to (a user holding provider); none without a tip.
    tip_provider_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A cash tender: what the client handed over (its change is this less amount and tip).
    cash_tendered_cents: Mapped[int | None] = mapped_column(BigInteger)
    # An external card machine's authorization code (with last4).
    auth_code: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sale: Mapped[Sale] = relationship(back_populates="payments")

"""Gift cards and the append-only ledger of their balance."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from pos.domain.gift_cards import GiftCardEntryKind
from pos.domain.statuses import check_in
from pos.extensions import db
from pos.models.sales import SaleLine
from pos.models.types import UTCDateTime, utcnow


class GiftCard(db.Model):
    """A code worth its balance; the row a redemption locks (one lock per card)."""

    __tablename__ = "gift_cards"
    __table_args__ = (
        # The cached sum of the entries, kept in the same transaction as each entry: the
        # database itself refuses an overdraft, whatever races past the service's check.
        CheckConstraint("balance_cents >= 0", name="balance_not_negative"),
        CheckConstraint("initial_cents > 0", name="initial_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Undashed, upper case (pos.domain.gift_cards.normalise_code).
    code: Mapped[str] = mapped_column(String(16), unique=True)
    initial_cents: Mapped[int] = mapped_column(BigInteger)
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    sold_on_sale_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("sale_lines.id"), unique=True)
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # line.gift_card: the card a gift card line sold (the sale's JSON and receipt show it).
    sold_on_sale_line: Mapped[SaleLine | None] = relationship(
        backref=backref("gift_card", uselist=False, viewonly=True), viewonly=True)
    entries: Mapped[list[GiftCardEntry]] = relationship(
        back_populates="gift_card", order_by="GiftCardEntry.id")


class GiftCardEntry(db.Model):
    """One movement of a gift card's balance; appended, never edited."""

    __tablename__ = "gift_card_entries"
    __table_args__ = (
        CheckConstraint(check_in("kind", GiftCardEntryKind), name="kind_known"),
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        # Issues and reversals add, redemptions and refunds take away.
        CheckConstraint("(kind IN ('issue', 'reverse')) = (amount_cents > 0)",
                        name="sign_follows_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gift_card_id: Mapped[int] = mapped_column(ForeignKey("gift_cards.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(10))
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    gift_card: Mapped[GiftCard] = relationship(back_populates="entries")

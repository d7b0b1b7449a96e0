"""Clients, sales and their lines, package purchases, discounts and refunds."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.domain.statuses import (
    PaymentMethod,
    PaymentStatus,
    RefundStatus,
    SalePaymentMethod,
    SaleStatus,
    check_in,
)
from pos.extensions import db
from pos.models.catalog import Item, Package
from pos.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from pos.models.payments import Payment
    from pos.models.staff import User


CLIENT_NOTES_LENGTH = 2000
CLIENT_ALLERGIES_LENGTH = 1000


class Client(db.Model):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80), index=True)
    # Lower-cased; unique so a duplicate client is caught at the desk.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    # Digits of the phone only, so "555-0100" finds "(555) 0100".
    phone_digits: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set, under this row's lock, by the treatment that handed out the first-visit bundle.
    first_visit_bundle_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    date_of_birth: Mapped[date | None]
    # The front desk's notes (preferences, how to reach them): not clinical.
    notes: Mapped[str | None] = mapped_column(String(CLIENT_NOTES_LENGTH))
    # Clinical: read and written only by users holding `provider`; each read is audited
    # (pos/services/need_to_know.py). Never logged, never in the audit details.
    allergies: Mapped[str | None] = mapped_column(String(CLIENT_ALLERGIES_LENGTH))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# Search as you type (pos.services.clients.search_clients) matches names and emails by
# prefix: lower() expression indexes, and text_pattern_ops on PostgreSQL so LIKE 'abc%'
# can use them whatever the database's collation.
Index("ix_clients_last_name_lower", func.lower(Client.last_name).label("last_name_lower"),
      postgresql_ops={"last_name_lower": "text_pattern_ops"})
Index("ix_clients_first_name_lower", func.lower(Client.first_name).label("first_name_lower"),
      postgresql_ops={"first_name_lower": "text_pattern_ops"})
Index("ix_clients_email_pattern", Client.email, postgresql_ops={"email": "text_pattern_ops"})


class DiscountCode(db.Model):
    __tablename__ = "discount_codes"
    __table_args__ = (
        CheckConstraint("kind IN ('percent', 'fixed')", name="kind_known"),
        CheckConstraint("value > 0", name="value_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    # Basis points for percent (1000 = 10 %), cents for fixed.
    value: Mapped[int]
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    max_uses: Mapped[int | None]
    times_used: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Sale(db.Model):
    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("location_id", "receipt_number"),
        Index("ix_sales_paid_at", "paid_at"),
        # The transactions list: newest first, by day, by cashier.
        Index("ix_sales_created_at", "created_at"),
        Index("ix_sales_sold_by_id", "sold_by_id"),
        Index("ix_sales_status_expires_at", "status", "expires_at"),
        # The monthly report's liability looks up every package sale's payment by id:
        # index-only, without visiting the table.
        Index("ix_sales_id_paid_at_status", "id", "paid_at", "status"),
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
        CheckConstraint(check_in("status", SaleStatus), name="status_known"),
        CheckConstraint(check_in("payment_method", SalePaymentMethod),
                        name="payment_method_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    sold_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20))
    payment_method: Mapped[str] = mapped_column(String(20))  # SalePaymentMethod
    subtotal_cents: Mapped[int] = mapped_column(BigInteger)
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    discount_code_id: Mapped[int | None] = mapped_column(ForeignKey("discount_codes.id"))
    # A manager's discount (part of discount_cents, after the code's), why, and who approved.
    manual_discount_cents: Mapped[int] = mapped_column(BigInteger, default=0,
                                                       server_default=text("0"))
    manual_discount_reason: Mapped[str | None] = mapped_column(String(500))
    manual_discount_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cash_tendered_cents: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # expired, failed or void
    # Gapless per location, given when the sale is paid.
    receipt_number: Mapped[int | None]
    gateway: Mapped[str | None] = mapped_column(String(10))  # stripe | demo
    # The Checkout Session's address and expiry, shown at the desk while the client pays;
    # its ids are on the card tender (payments), their one home.
    checkout_url: Mapped[str | None] = mapped_column(String(1000))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why a manager must look at it (amount mismatch, paid after the hold expired...).
    flag: Mapped[str | None] = mapped_column(String(200))

    client: Mapped[Client | None] = relationship()
    lines: Mapped[list[SaleLine]] = relationship(
        back_populates="sale", order_by="SaleLine.id", cascade="all, delete-orphan"
    )
    discount_code: Mapped[DiscountCode | None] = relationship()
    manual_discount_approved_by: Mapped[User | None] = relationship(
        foreign_keys=[manual_discount_approved_by_id])
    payments: Mapped[list[Payment]] = relationship(
        back_populates="sale", order_by="Payment.id", cascade="all, delete-orphan"
    )

    # Read-only views of the card tender, for the pages and the receipt: the one pending,
    # else the last (a split sale whose card payment failed may have another after it).
    @property
    def card_payment(self) -> Payment | None:
        cards = [p for p in self.payments if p.method == PaymentMethod.CARD]
        return next((p for p in cards if p.status == PaymentStatus.PENDING),
                    cards[-1] if cards else None)

    @property
    def balance_cents(self) -> int:
        """What is still to pay: the total less every tender succeeded or under way."""
        return self.total_cents - sum(
            p.amount_cents for p in self.payments
            if p.status in (PaymentStatus.SUCCEEDED, PaymentStatus.PENDING))

    @property
    def paid_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments
                   if p.status == PaymentStatus.SUCCEEDED)

    @property
    def terminal_payment(self) -> Payment | None:
        """The reader tender: the pending one if any (a split sale may have had a declined
        one cancelled before), else the latest."""
        readers = [p for p in self.payments if p.method == PaymentMethod.TERMINAL]
        return next((p for p in readers if p.status == PaymentStatus.PENDING),
                    readers[-1] if readers else None)

    @property
    def checkout_session_id(self) -> str | None:
        card = self.card_payment
        return card.checkout_session_id if card is not None else None

    @property
    def payment_intent_id(self) -> str | None:
        """The Stripe payment to refund: the Checkout's, or the card reader's."""
        card = self.card_payment or self.terminal_payment
        return card.payment_intent_id if card is not None else None

    @property
    def card_last4(self) -> str | None:
        card = self.card_payment or self.terminal_payment
        return card.last4 if card is not None else None


GIFT_CARD_CATEGORY = "gift_card"
ITEM_PACKAGE_OR_GIFT_CARD = (
    "(CASE WHEN item_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN package_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN category = 'gift_card' THEN 1 ELSE 0 END) = 1"
)


class SaleLine(db.Model):
    __tablename__ = "sale_lines"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("refunded_quantity <= quantity", name="refund_within_quantity"),
        # A line sells an item, a package or a gift card (category 'gift_card', no row).
        CheckConstraint(ITEM_PACKAGE_OR_GIFT_CARD, name="item_package_or_gift_card"),
        # Package lines only (a fraction of all lines): the monthly report's liability
        # joins every package purchase to its line and sale through it (index-only).
        Index("ix_sale_lines_package_lines", "id", "sale_id",
              postgresql_where=text("package_id IS NOT NULL"),
              sqlite_where=text("package_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))  # as sold, whatever the catalog says later
    category: Mapped[str] = mapped_column(String(10))  # package | retail | bundle | supply
    quantity: Mapped[int]
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    subtotal_cents: Mapped[int] = mapped_column(BigInteger)
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    taxable: Mapped[bool] = mapped_column(default=False)
    refunded_quantity: Mapped[int] = mapped_column(default=0)

    sale: Mapped[Sale] = relationship(back_populates="lines")
    item: Mapped[Item | None] = relationship()
    package: Mapped[Package | None] = relationship()

    @property
    def net_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents


class PackagePurchase(db.Model):
    """Sessions a client has paid for; the row a redemption locks."""

    __tablename__ = "package_purchases"
    __table_args__ = (
        CheckConstraint(
            "sessions_used + sessions_refunded <= sessions_total", name="sessions_within_total"
        ),
        CheckConstraint("sessions_used >= 0", name="used_not_negative"),
        # The monthly report's liability sums every purchase's value by its sale line
        # (index-only).
        Index("ix_package_purchases_sale_line_value", "sale_line_id", "value_cents"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    sale_line_id: Mapped[int] = mapped_column(ForeignKey("sale_lines.id"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"))
    sessions_total: Mapped[int]
    sessions_used: Mapped[int] = mapped_column(default=0)
    sessions_refunded: Mapped[int] = mapped_column(default=0)
    # What the sessions were sold for, net of discount, tax excluded (liability).
    value_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    package: Mapped[Package] = relationship()
    client: Mapped[Client] = relationship()
    sale_line: Mapped[SaleLine] = relationship()

    @property
    def sessions_left(self) -> int:
        return self.sessions_total - self.sessions_used - self.sessions_refunded


class Refund(db.Model):
    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("location_id", "receipt_number"),
        Index("ix_refunds_created_at", "created_at"),
        CheckConstraint(check_in("status", RefundStatus), name="status_known"),
        CheckConstraint(check_in("method", SalePaymentMethod), name="method_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    # What goes back to the client, tax included.
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str] = mapped_column(String(500))
    method: Mapped[str] = mapped_column(String(20))  # the sale's payment_method
    status: Mapped[str] = mapped_column(String(20))  # pending | succeeded | failed
    gateway_refund_id: Mapped[str | None] = mapped_column(String(255))
    receipt_number: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The refund of everything left on a paid sale voided the same day: when it succeeds,
    # the sale is `void` (pos/services/refunds.py).
    voids_sale: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Given to the client's account credit (client_credit_entries), not back to the card or
    # out of the drawer: no money left the clinic.
    to_credit: Mapped[bool] = mapped_column(default=False, server_default=false())

    sale: Mapped[Sale] = relationship()
    lines: Mapped[list[RefundLine]] = relationship(
        back_populates="refund", cascade="all, delete-orphan"
    )


class RefundLine(db.Model):
    __tablename__ = "refund_lines"
    __table_args__ = (
        # Whole units of the line, or (a series partly used) sessions of one purchase.
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("quantity >= 1 OR sessions >= 1", name="units_or_sessions"),
        CheckConstraint("(sessions IS NULL) = (purchase_id IS NULL)",
                        name="sessions_of_a_purchase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), index=True)
    sale_line_id: Mapped[int] = mapped_column(ForeignKey("sale_lines.id"), index=True)
    quantity: Mapped[int]
    net_cents: Mapped[int] = mapped_column(BigInteger)
    tax_cents: Mapped[int] = mapped_column(BigInteger)
    restock: Mapped[bool] = mapped_column(default=False)
    # Unused sessions of one package purchase refunded (quantity is then 0).
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("package_purchases.id"))
    sessions: Mapped[int | None]
    # What left the package liability when it is not net_cents: the sessions' full value
    # when a manager refunded less than it (the rest is the clinic's).
    released_cents: Mapped[int | None] = mapped_column(BigInteger)

    refund: Mapped[Refund] = relationship(back_populates="lines")
    sale_line: Mapped[SaleLine] = relationship()


class ReceiptCounter(db.Model):
    """The next receipt number of a location; locked while a number is taken, so no gaps."""

    __tablename__ = "receipt_counters"

    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    next_number: Mapped[int] = mapped_column(default=1)


class ProcessedEvent(db.Model):
    """A payment event already applied: each event id is processed once."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyRecord(db.Model):
    """The first response to a POST with an Idempotency-Key, replayed for the same key
    and user (pos.web.api.idempotency)."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "endpoint", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    endpoint: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Kept 24 h from here (pos worker purges older records).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the request now answering for this key started; a claim with no answer
    # (status_code 0) older than IDEMPOTENCY_LEASE_SECONDS died with its worker and is
    # taken over by a retry.
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

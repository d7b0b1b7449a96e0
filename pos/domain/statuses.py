"""The closed sets of states and kinds the database stores as text.

Each is a `StrEnum`, so a member compares equal to its text (`SaleStatus.PAID == "paid"`)
and a typo is an AttributeError instead of a silent miss; the models turn each set into a
CHECK constraint, so the database refuses anything else too.
"""
from __future__ import annotations

from enum import StrEnum


class SaleStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    EXPIRED = "expired"
    FAILED = "failed"
    VOID = "void"
    # Ended unpaid at the desk (the client walked away, or paid another way).
    CANCELLED = "cancelled"


class PaymentMethod(StrEnum):
    """How one tender is paid (a row of `payments`; API.md "In-person and mixed payments")."""

    CASH = "cash"
    CARD = "card"  # Stripe Checkout: the client scans a QR code and pays on their phone
    TERMINAL = "terminal"  # Stripe Terminal, a reader at the desk
    EXTERNAL_CARD = "external_card"  # another processor's card machine: recorded only
    GIFT_CARD = "gift_card"
    ACCOUNT_CREDIT = "account_credit"


class ReaderStatus(StrEnum):
    """A Stripe Terminal reader's network status, as Stripe last reported it."""

    ONLINE = "online"
    OFFLINE = "offline"


class SalePaymentMethod(StrEnum):
    """A sale's `payment_method`: its one tender's method, or `split` for several tenders
    (each tender is a row of `payments`; a refund of a split sale is `split` too)."""

    CASH = "cash"
    CARD = "card"
    TERMINAL = "terminal"
    EXTERNAL_CARD = "external_card"
    GIFT_CARD = "gift_card"
    ACCOUNT_CREDIT = "account_credit"
    SPLIT = "split"


class PaymentStatus(StrEnum):
    """One tender of a sale (a row of `payments`)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DrawerStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class DrawerEntryKind(StrEnum):
    """What moved cash in or out of a drawer (pos.domain.drawers adds them up)."""

    CASH_SALE = "cash_sale"
    CASH_REFUND = "cash_refund"
    PAID_IN = "paid_in"
    PAID_OUT = "paid_out"


# A sale counts in the month's figures once it is paid; refunds are counted separately, in
# the month they are made, so a refunded sale stays a paid sale.
COUNTED_SALE_STATUSES = (SaleStatus.PAID,)
# A refund counts when made, even while the processor has not confirmed it yet.
COUNTED_REFUND_STATUSES = (RefundStatus.SUCCEEDED, RefundStatus.PENDING)


def check_in(column: str, values: type[StrEnum]) -> str:
    """The SQL of a CHECK constraint that keeps `column` inside one of these sets."""
    listed = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IN ({listed})"


class SessionOrigin(StrEnum):
    """How a staff session began: a full sign-in, or a PIN unlocking an idle desk."""

    PASSWORD = "password"  # noqa: S105 - a kind of sign-in, not a secret
    PIN = "pin"


class SessionEndReason(StrEnum):
    SIGNED_OUT = "signed_out"
    IDLE = "idle"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a secret
    # Ended from outside: deactivation, a change of roles (end_user_sessions).
    REVOKED = "revoked"


class SaleRefundStatus(StrEnum):
    """How much of a sale was given back (the sale's `refund_status`)."""

    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


def sale_refund_status(total_cents: int, refunded_cents: int,
                       refund_count: int) -> SaleRefundStatus:
    """From the sale's total and its counted refunds (COUNTED_REFUND_STATUSES, tax
    included). Refunding every unit gives back exactly the total (pricing.refund_amounts),
    so "full" is an amount, whatever the steps; a sale of 0 refunded is full."""
    if refund_count == 0:
        return SaleRefundStatus.NONE
    if refunded_cents >= total_cents:
        return SaleRefundStatus.FULL
    return SaleRefundStatus.PARTIAL

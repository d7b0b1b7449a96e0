"""The business day of a location: once its cash drawer is closed, that day cannot change.

Closing the drawer and selling never race (PostgreSQL): `ensure_day_open` reads the day's
row FOR SHARE, and `close_day` locks that row FOR UPDATE (having made sure, in a first
committed step, that the row exists). A sale already past its check holds the share lock
until it commits, so the close waits for it and counts it; a sale that checks after the
close began waits for the close and then finds the day closed. The close also takes the
location's receipt counter lock, which every paying transaction takes, so a card payment
being settled at that moment is in the summary too. On SQLite every write transaction
starts with BEGIN IMMEDIATE, which serialises them all anyway.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.errors import PosError, ValidationFailed
from pos.domain.money import MAX_CENTS
from pos.models import CashDay, ReceiptCounter, Refund, Sale
from pos.services import audit, clock
from pos.services.ledger import default_location
from pos.services.transaction import write_transaction


class DayClosed(PosError):
    code = "day_closed"
    status = 409


def ensure_day_open(session: Session, location_id: int, business_date: date) -> None:
    """Refuse a sale, payment or refund on a day whose drawer has been closed."""
    closed = session.scalar(select(CashDay.closed_at).where(
        CashDay.location_id == location_id, CashDay.business_date == business_date)
        .with_for_update(read=True))
    if closed is not None:
        raise DayClosed(f"The day {business_date.isoformat()} is closed; "
                        "nothing more can be recorded on it.",
                        {"business_date": business_date.isoformat()})


def day_bounds(business_date: date) -> tuple[datetime, datetime]:
    """The clinic day as a UTC interval [start, end) (23 or 25 hours on DST change days)."""
    zone = clock.clinic_zone()
    start = datetime.combine(business_date, time(0), tzinfo=zone)
    end = datetime.combine(business_date + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class MethodTotals:
    count: int = 0
    total_cents: int = 0


@dataclass(frozen=True)
class DaySummary:
    business_date: date
    location_id: int
    sales: dict[str, MethodTotals] = field(default_factory=dict)  # paid, by payment method
    refunds: dict[str, MethodTotals] = field(default_factory=dict)  # succeeded, by method
    subtotal_cents: int = 0
    discount_cents: int = 0
    tax_cents: int = 0
    refund_tax_cents: int = 0
    opening_float_cents: int = 0
    counted_cents: int | None = None
    closed_at: datetime | None = None
    closed_by_id: int | None = None

    @property
    def sales_count(self) -> int:
        return sum(t.count for t in self.sales.values())

    @property
    def sales_total_cents(self) -> int:
        return sum(t.total_cents for t in self.sales.values())

    @property
    def refunds_total_cents(self) -> int:
        return sum(t.total_cents for t in self.refunds.values())

    @property
    def cash_sales_cents(self) -> int:
        return self.sales.get("cash", MethodTotals()).total_cents

    @property
    def cash_refunds_cents(self) -> int:
        return self.refunds.get("cash", MethodTotals()).total_cents

    @property
    def expected_cash_cents(self) -> int:
        """What the drawer should hold: opening float + cash sales - cash refunds."""
        return self.opening_float_cents + self.cash_sales_cents - self.cash_refunds_cents

    @property
    def difference_cents(self) -> int | None:
        """Counted - expected: negative when cash is missing."""
        if self.counted_cents is None:
            return None
        return self.counted_cents - self.expected_cash_cents

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


def day_summary(session: Session, location_id: int, business_date: date) -> DaySummary:
    """Sales paid and refunds made on the clinic day, by payment method, in SQL aggregates."""
    start, end = day_bounds(business_date)
    sales_rows = session.execute(
        select(Sale.payment_method, func.count(Sale.id), func.coalesce(func.sum(
            Sale.total_cents), 0))
        .where(Sale.location_id == location_id, Sale.status == "paid",
               Sale.paid_at >= start, Sale.paid_at < end)
        .group_by(Sale.payment_method)).all()
    subtotal, discount, tax = session.execute(
        select(func.coalesce(func.sum(Sale.subtotal_cents), 0),
               func.coalesce(func.sum(Sale.discount_cents), 0),
               func.coalesce(func.sum(Sale.tax_cents), 0))
        .where(Sale.location_id == location_id, Sale.status == "paid",
               Sale.paid_at >= start, Sale.paid_at < end)).one()
    refund_rows = session.execute(
        select(Refund.method, func.count(Refund.id),
               func.coalesce(func.sum(Refund.amount_cents), 0),
               func.coalesce(func.sum(Refund.tax_cents), 0))
        .where(Refund.location_id == location_id, Refund.status == "succeeded",
               Refund.created_at >= start, Refund.created_at < end)
        .group_by(Refund.method)).all()
    day = session.scalar(select(CashDay).where(CashDay.location_id == location_id,
                                               CashDay.business_date == business_date))
    return DaySummary(
        business_date=business_date, location_id=location_id,
        sales={m: MethodTotals(int(n), int(t)) for m, n, t in sales_rows},
        refunds={m: MethodTotals(int(n), int(t)) for m, n, t, _ in refund_rows},
        subtotal_cents=int(subtotal), discount_cents=int(discount), tax_cents=int(tax),
        refund_tax_cents=sum(int(rt) for *_, rt in refund_rows),
        opening_float_cents=day.opening_float_cents if day else 0,
        counted_cents=day.counted_cents if day else None,
        closed_at=day.closed_at if day else None,
        closed_by_id=day.closed_by_id if day else None,
    )


def _check_amount(name: str, cents: int) -> None:
    if isinstance(cents, bool) or not isinstance(cents, int) or not 0 <= cents <= MAX_CENTS:
        raise ValidationFailed(f"The {name.replace('_', ' ')} must be an amount of at least 0.",
                               {"fields": {name: "must be an amount of at least 0"}})


def _ensure_day_row(business_date: date) -> None:
    """Create the day's row in its own committed transaction, so that sales can lock it."""
    if business_date > clock.today():
        # Closing a day ahead of time would refuse that whole day's sales.
        raise ValidationFailed(f"{business_date.isoformat()} has not begun yet.",
                               {"fields": {"business_date": "is in the future"}})
    try:
        with write_transaction() as session:
            location = default_location(session)
            exists = session.scalar(select(CashDay.id).where(
                CashDay.location_id == location.id, CashDay.business_date == business_date))
            if exists is None:
                session.add(CashDay(location_id=location.id, business_date=business_date,
                                    opening_float_cents=0))
    except IntegrityError:
        pass  # another desk created it a moment ago


def _lock_day(session: Session, location_id: int, business_date: date) -> CashDay:
    day = session.scalar(select(CashDay).where(
        CashDay.location_id == location_id, CashDay.business_date == business_date)
        .with_for_update().execution_options(populate_existing=True))
    assert day is not None  # created by _ensure_day_row
    if day.closed_at is not None:
        raise DayClosed(f"The day {business_date.isoformat()} is already closed.",
                        {"business_date": business_date.isoformat()})
    return day


def set_opening_float(*, business_date: date, opening_float_cents: int,
                      user_id: int | None) -> CashDay:
    """Record the cash the drawer started the day with (changeable until the day closes)."""
    _check_amount("opening_float_cents", opening_float_cents)
    _ensure_day_row(business_date)
    with write_transaction() as session:
        location = default_location(session)
        day = _lock_day(session, location.id, business_date)
        day.opening_float_cents = opening_float_cents
        audit.record(session, user_id, "cash_day.float", "cash_day", day.id,
                     business_date=business_date.isoformat(),
                     opening_float_cents=opening_float_cents)
        return day


def close_day(*, business_date: date, opening_float_cents: int, counted_cents: int,
              user_id: int | None) -> DaySummary:
    """Count the drawer and close the day: expected and counted are kept, the difference
    is counted - expected, and nothing more can be sold or refunded on that day."""
    _check_amount("opening_float_cents", opening_float_cents)
    _check_amount("counted_cents", counted_cents)
    _ensure_day_row(business_date)
    with write_transaction() as session:
        location = default_location(session)
        day = _lock_day(session, location.id, business_date)
        # Wait for any payment being numbered right now (see the module docstring).
        session.execute(select(ReceiptCounter.location_id).where(
            ReceiptCounter.location_id == location.id).with_for_update())
        day.opening_float_cents = opening_float_cents
        session.flush()
        summary = day_summary(session, location.id, business_date)
        day.expected_cents = summary.expected_cash_cents
        day.counted_cents = counted_cents
        day.closed_at = clock.now()
        day.closed_by_id = user_id
        session.flush()
        audit.record(session, user_id, "cash_day.close", "cash_day", day.id,
                     business_date=business_date.isoformat(),
                     opening_float_cents=opening_float_cents,
                     expected_cents=day.expected_cents, counted_cents=counted_cents,
                     difference_cents=counted_cents - day.expected_cents)
        return day_summary(session, location.id, business_date)

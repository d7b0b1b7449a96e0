"""The transactions list: sales filtered, searched, newest first, a page at a time; and
what every sale shown carries besides its row (its refund status, its cashier).

The page's sales and their facts cost three statements whatever the page size: the
count, the page (with each sale's refunded amount as a correlated subquery), and the
cashiers' names; the lines and tenders load with selectinload (two more).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from pos.domain.statuses import (
    COUNTED_REFUND_STATUSES,
    SaleRefundStatus,
    sale_refund_status,
)
from pos.models import Client, Payment, Refund, Sale, SaleLine, User

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class SaleFilters:
    """What the desk narrows the list by; None is "any". `from_day`/`to_day` are the
    clinic's days (inclusive) of the sale's creation."""

    from_day: date | None = None
    to_day: date | None = None
    status: str | None = None
    method: str | None = None
    cashier_id: int | None = None
    client_id: int | None = None
    q: str | None = None


@dataclass(frozen=True)
class Cashier:
    id: int
    name: str


@dataclass(frozen=True)
class SaleFacts:
    refund_status: SaleRefundStatus
    refunded_cents: int
    cashier: Cashier | None


@dataclass
class SalePage:
    sales: list[Sale]
    facts: dict[int, SaleFacts]
    page: int
    per_page: int
    total: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.per_page))


def _refunded_cents() -> ColumnElement[int]:
    return (select(func.coalesce(func.sum(Refund.amount_cents), 0))
            .where(Refund.sale_id == Sale.id, Refund.status.in_(COUNTED_REFUND_STATUSES))
            .correlate(Sale).scalar_subquery())


def _refund_count() -> ColumnElement[int]:
    return (select(func.count(Refund.id))
            .where(Refund.sale_id == Sale.id, Refund.status.in_(COUNTED_REFUND_STATUSES))
            .correlate(Sale).scalar_subquery())


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search(q: str) -> ColumnElement[bool] | None:
    """A receipt number ("42" or "#42"), or a client's name: every word is the start of
    the first or the last name ("ana lo" finds Ana Lopez), case-insensitively."""
    printable = "".join(c if c.isprintable() else " " for c in q[:200])
    words = printable.lower().split()
    if not words:
        return None
    conditions: list[ColumnElement[bool]] = []
    number = words[0].lstrip("#") if len(words) == 1 else ""
    if number.isdigit() and len(number) <= 9:
        conditions.append(Sale.receipt_number == int(number))
    first, last = func.lower(Client.first_name), func.lower(Client.last_name)
    by_name = and_(*[or_(first.like(_like_prefix(w), escape="\\"),
                         last.like(_like_prefix(w), escape="\\")) for w in words[:4]])
    conditions.append(Sale.client_id.in_(select(Client.id).where(by_name)))
    return or_(*conditions)


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def list_sales(session: Session, filters: SaleFilters, *, page: int = 1,
               per_page: int = DEFAULT_PER_PAGE, zone: ZoneInfo) -> SalePage:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    where: list[ColumnElement[bool]] = []
    if filters.from_day is not None:
        where.append(Sale.created_at >= _day_start(filters.from_day, zone))
    if filters.to_day is not None:
        where.append(Sale.created_at < _day_start(filters.to_day + timedelta(days=1), zone))
    if filters.status is not None:
        where.append(Sale.status == filters.status)
    if filters.method is not None:
        # Any tender of that method (a sale may be paid several ways).
        where.append(exists().where(Payment.sale_id == Sale.id,
                                    Payment.method == filters.method))
    if filters.cashier_id is not None:
        where.append(Sale.sold_by_id == filters.cashier_id)
    if filters.client_id is not None:
        where.append(Sale.client_id == filters.client_id)
    if filters.q:
        condition = _search(filters.q)
        if condition is not None:
            where.append(condition)
    total = session.scalar(select(func.count(Sale.id)).where(*where)) or 0
    rows = session.execute(
        select(Sale, _refunded_cents(), _refund_count()).where(*where)
        .options(selectinload(Sale.lines).selectinload(SaleLine.package),
                 selectinload(Sale.payments), selectinload(Sale.client))
        .order_by(Sale.created_at.desc(), Sale.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    names = _cashier_names(session, {sale.sold_by_id for sale, _, _ in rows})
    facts = {sale.id: _facts(sale, refunded, count, names) for sale, refunded, count in rows}
    return SalePage([sale for sale, _, _ in rows], facts, page, per_page, total)


def sale_facts(session: Session, sale: Sale) -> SaleFacts:
    """The facts of one sale (its page, GET /api/v1/sales/{id})."""
    refunded, count = session.execute(
        select(func.coalesce(func.sum(Refund.amount_cents), 0), func.count(Refund.id))
        .where(Refund.sale_id == sale.id,
               Refund.status.in_(COUNTED_REFUND_STATUSES))).one()
    return _facts(sale, refunded, count, _cashier_names(session, {sale.sold_by_id}))


def new_sale_facts(session: Session, sale_sold_by_id: int | None) -> SaleFacts:
    """A sale just made: nothing refunded; its cashier is who sold it."""
    names = _cashier_names(session, {sale_sold_by_id})
    cashier = (Cashier(sale_sold_by_id, names[sale_sold_by_id])
               if sale_sold_by_id in names else None)
    return SaleFacts(SaleRefundStatus.NONE, 0, cashier)


def _cashier_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())


def _facts(sale: Sale, refunded: int, count: int, names: dict[int, str]) -> SaleFacts:
    cashier = (Cashier(sale.sold_by_id, names[sale.sold_by_id])
               if sale.sold_by_id in names else None)
    return SaleFacts(sale_refund_status(sale.total_cents, int(refunded), int(count)),
                     int(refunded), cashier)


def cashiers(session: Session) -> list[Cashier]:
    """Everyone who has sold something, for the list's cashier filter."""
    rows = session.execute(select(User.id, User.name).where(
        User.id.in_(select(Sale.sold_by_id).where(Sale.sold_by_id.is_not(None)).distinct()))
        .order_by(User.name))
    return [Cashier(user_id, name) for user_id, name in rows]

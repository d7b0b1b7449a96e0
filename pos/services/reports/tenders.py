"""The month's tenders and tips: what came in by each way of paying, and the tips by the
provider they went to (issue 14). Read from `payments`: the tenders that succeeded of the
sales counted in the month (paid in it, not void), as every sales figure is. A split
sale's cash part counts under cash, its card part under card. Tips are not revenue and not
taxed: they are in no other figure of the report."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos.domain.statuses import COUNTED_SALE_STATUSES, PaymentStatus
from pos.models import Payment, Sale, User
from pos.services.reports._sql import in_window


@dataclass(frozen=True)
class TenderRow:
    method: str
    amount_cents: int  # tax included, tips excluded
    count: int


@dataclass(frozen=True)
class TipRow:
    provider_id: int | None
    name: str
    tip_cents: int


@dataclass(frozen=True)
class Tenders:
    by_method: tuple[TenderRow, ...] = ()
    tips: tuple[TipRow, ...] = ()

    @property
    def tips_total_cents(self) -> int:
        return sum(row.tip_cents for row in self.tips)


def _counted(start: datetime, end: datetime) -> list:  # type: ignore[type-arg]
    return [Payment.status == PaymentStatus.SUCCEEDED, in_window(Sale.paid_at, start, end),
            Sale.status.in_(COUNTED_SALE_STATUSES)]


def tenders_of(session: Session, start: datetime, end: datetime) -> Tenders:
    by_method = session.execute(
        select(Payment.method, func.sum(Payment.amount_cents), func.count(Payment.id))
        .join(Sale, Sale.id == Payment.sale_id).where(*_counted(start, end))
        .group_by(Payment.method).order_by(Payment.method)).all()
    tips = session.execute(
        select(Payment.tip_provider_id, User.name, func.sum(Payment.tip_cents))
        .join(Sale, Sale.id == Payment.sale_id)
        .outerjoin(User, User.id == Payment.tip_provider_id)
        .where(*_counted(start, end), Payment.tip_cents > 0)
        .group_by(Payment.tip_provider_id, User.name)).all()
    return Tenders(
        by_method=tuple(TenderRow(m, int(a or 0), int(c)) for m, a, c in by_method),
        tips=tuple(sorted((TipRow(p, n or "Unknown", int(t or 0)) for p, n, t in tips),
                          key=lambda r: (-r.tip_cents, r.name))))

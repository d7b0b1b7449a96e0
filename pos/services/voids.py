"""Voiding a sale (API.md: `POST /api/v1/sales/{id}/void` [manager]).

Awaiting payment: its hold is released and its checkout ended (`sales.void_sale`). Paid
today: reversed as if it had not happened (`refunds.void_paid_sale`). Each re-checks the
status under the sale's lock, so a sale paid meanwhile is refused with 409, never half
voided.
"""
from __future__ import annotations

from sqlalchemy import select

from pos.domain.statuses import SaleStatus
from pos.extensions import db
from pos.models import Sale
from pos.services import refunds, sales


def void_sale(sale_id: int, user_id: int | None, reason: str = "") -> Sale:
    status = db.session.scalar(select(Sale.status).where(Sale.id == sale_id))
    if status == SaleStatus.PAID:
        refunds.void_paid_sale(sale_id, reason=reason, user_id=user_id)
        db.session.expire_all()
        return sales.get_sale(db.session(), sale_id)
    return sales.void_sale(sale_id, user_id)

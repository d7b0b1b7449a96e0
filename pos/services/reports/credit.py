"""The month's account credit (pos/models/credit.py): issued, spent, held at its end."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos.models import ClientCreditEntry
from pos.services.reports.shapes import AccountCredit


def credit_figures(session: Session, start: datetime, end: datetime) -> AccountCredit:
    """Credit issued and spent in [start, end) and outstanding at `end`: one statement."""
    E = ClientCreditEntry
    within = (E.created_at >= start) & (E.created_at < end)
    issued = func.coalesce(func.sum(E.amount_cents).filter(within & (E.amount_cents > 0)), 0)
    spent = func.coalesce(func.sum(-E.amount_cents).filter(within & (E.amount_cents < 0)), 0)
    held = func.coalesce(func.sum(E.amount_cents), 0)
    row = session.execute(select(issued, spent, held).where(E.created_at < end)).one()
    return AccountCredit(int(row[0]), int(row[1]), int(row[2]))

"""Suppliers: who the clinic orders from (name, email, lead time, minimum order)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.errors import Conflict, NotFound
from pos.models import Supplier
from pos.services import audit
from pos.services.transaction import write_transaction


def create_supplier(*, name: str, email: str, lead_time_days: int,
                    minimum_order_cents: int | None, user_id: int | None) -> Supplier:
    with write_transaction() as session:
        taken = session.scalar(select(Supplier.id).where(
            func.lower(Supplier.name) == name.lower()))
        if taken is not None:
            raise Conflict(f"There is already a supplier named {name!r}.",
                           {"supplier_id": taken, "fields": {"name": "already a supplier"}})
        supplier = Supplier(name=name, email=email, lead_time_days=lead_time_days,
                            minimum_order_cents=minimum_order_cents)
        session.add(supplier)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(f"There is already a supplier named {name!r}.",
                           {"fields": {"name": "already a supplier"}}) from None
        audit.record(session, user_id, "supplier.create", "supplier", supplier.id,
                     name=name)
        return supplier


def list_suppliers(session: Session) -> list[Supplier]:
    return list(session.scalars(select(Supplier).order_by(func.lower(Supplier.name))))


def get_supplier(session: Session, supplier_id: int) -> Supplier:
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound(f"There is no supplier {supplier_id}.", {"supplier_id": supplier_id})
    return supplier

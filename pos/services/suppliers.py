"""Suppliers: who the clinic orders from (name, email, lead time, minimum order)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.errors import Conflict, NotFound, ValidationFailed
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


SUPPLIER_FIELDS = ("name", "email", "lead_time_days", "minimum_order_cents")


def update_supplier(supplier_id: int, changes: Mapping[str, Any],
                    user_id: int | None) -> Supplier:
    """Correct a supplier (a lead time that changed, a new order address); audited. The
    reorder list reads the lead time when it is drawn, so it follows at once."""
    unknown = sorted(set(changes) - set(SUPPLIER_FIELDS))
    if unknown:
        raise ValidationFailed("These fields cannot be changed here.",
                               {"fields": {name: "cannot be changed" for name in unknown}})
    with write_transaction() as session:
        supplier = session.scalar(select(Supplier).where(Supplier.id == supplier_id)
                                  .with_for_update()
                                  .execution_options(populate_existing=True))
        if supplier is None:
            raise NotFound(f"There is no supplier {supplier_id}.",
                           {"supplier_id": supplier_id})
        name = changes.get("name")
        if name is not None and session.scalar(select(Supplier.id).where(
                func.lower(Supplier.name) == name.lower(), Supplier.id != supplier_id)):
            raise Conflict(f"There is already a supplier named {name!r}.",
                           {"fields": {"name": "already a supplier"}})
        changed = {field: [getattr(supplier, field), value] for field, value in changes.items()
                   if getattr(supplier, field) != value}
        for field, value in changes.items():
            setattr(supplier, field, value)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(f"There is already a supplier named {name!r}.",
                           {"fields": {"name": "already a supplier"}}) from None
        if changed:
            audit.record(session, user_id, "supplier.update", "supplier", supplier.id,
                         changes=changed)
        return supplier


def list_suppliers(session: Session) -> list[Supplier]:
    return list(session.scalars(select(Supplier).order_by(func.lower(Supplier.name))))


def get_supplier(session: Session, supplier_id: int) -> Supplier:
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound(f"There is no supplier {supplier_id}.", {"supplier_id": supplier_id})
    return supplier

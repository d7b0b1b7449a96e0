"""Creating and changing what the clinic sells and stocks."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.errors import Conflict, NotFound, UnknownItem, ValidationFailed
from pos.models import Item, Package, PackageSupply
from pos.models.catalog import AREAS, ITEM_KINDS
from pos.services import audit
from pos.services.ledger import default_location, ensure_item_stock
from pos.services.transaction import write_transaction


@dataclass(frozen=True)
class NewItem:
    sku: str
    name: str
    kind: str
    unit: str
    price_cents: int
    cost_cents: int
    reorder_point: int
    reorder_quantity: int
    taxable: bool
    barcode: str | None = None


def create_item(new: NewItem, user_id: int | None) -> Item:
    with write_transaction() as session:
        return add_item(session, new, user_id)


def add_item(session: Session, new: NewItem, user_id: int | None) -> Item:
    """create_item's work inside the caller's transaction (the CSV import adds many in one)."""
    if new.kind not in ITEM_KINDS:
        raise ValidationFailed(f"Kind must be one of {', '.join(ITEM_KINDS)}.",
                               {"fields": {"kind": "unknown kind"}})
    if session.scalar(select(Item.id).where(Item.sku == new.sku)) is not None:
        raise Conflict(f"An item with sku {new.sku!r} already exists.", {"sku": new.sku})
    if new.barcode and session.scalar(
            select(Item.sku).where(Item.barcode == new.barcode)) is not None:
        raise Conflict(f"Another item already has the barcode {new.barcode!r}.",
                       {"barcode": new.barcode})
    item = Item(**new.__dict__)
    session.add(item)
    try:
        session.flush()
    except IntegrityError:
        # Another request created the same sku or barcode since the checks above.
        raise Conflict(f"An item with sku {new.sku!r} or that barcode already exists.",
                       {"sku": new.sku}) from None
    ensure_item_stock(session, item.id, default_location(session).id)
    audit.record(session, user_id, "item.create", "item", item.sku)
    return item


@dataclass(frozen=True)
class NewPackage:
    code: str
    name: str
    area: str
    sessions: int
    price_cents: int
    min_days_between: int
    max_days_between: int | None
    supplies: tuple[tuple[str, int], ...]  # (sku, quantity per session)


def _supplies_for(session: Session, supplies: tuple[tuple[str, int], ...]) -> list[PackageSupply]:
    rows = []
    skus = [sku for sku, _quantity in supplies]
    repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
    if repeated:
        raise ValidationFailed(f"List each supply once per package: {', '.join(repeated)}.",
                               {"fields": {"supplies": f"repeats {', '.join(repeated)}"}})
    items = {item.sku: item for item in session.scalars(
        select(Item).where(Item.sku.in_(skus)))} if skus else {}
    for sku, quantity in supplies:
        item = items.get(sku)
        if item is None:
            raise UnknownItem(f"No item with sku {sku!r}.", {"sku": sku})
        if quantity < 1:
            raise ValidationFailed("Quantities per session must be at least 1.",
                                   {"fields": {"quantity": "must be at least 1"}})
        rows.append(PackageSupply(item_id=item.id, quantity=quantity))
    return rows


def create_package(new: NewPackage, user_id: int | None) -> Package:
    if new.area not in AREAS:
        raise ValidationFailed("Area must be face or scalp.", {"fields": {"area": "unknown"}})
    with write_transaction() as session:
        if session.scalar(select(Package.id).where(Package.code == new.code)) is not None:
            raise Conflict(f"A package with code {new.code!r} already exists.",
                           {"package_code": new.code})
        package = Package(code=new.code, name=new.name, area=new.area, sessions=new.sessions,
                          price_cents=new.price_cents, min_days_between=new.min_days_between,
                          max_days_between=new.max_days_between)
        package.supplies = _supplies_for(session, new.supplies)
        session.add(package)
        session.flush()
        audit.record(session, user_id, "package.create", "package", package.code)
        return package


def set_package_supplies(code: str, supplies: tuple[tuple[str, int], ...],
                         user_id: int | None) -> Package:
    """Replace a package's bill of materials. Treatments already recorded keep what they
    consumed (their lots are on the treatment), so this changes future treatments only."""
    with write_transaction() as session:
        package = session.scalar(select(Package).where(Package.code == code))
        if package is None:
            raise NotFound(f"No package {code!r}.", {"package_code": code})
        rows = _supplies_for(session, supplies)
        # Delete the old lines first: the unit of work inserts before it deletes, and a line
        # kept for the same item would break the (package, item) unique constraint.
        package.supplies = []
        session.flush()
        package.supplies = rows
        session.flush()
        audit.record(session, user_id, "package.supplies", "package", code,
                     supplies=[list(s) for s in supplies])
        return package


def list_packages(session: Session) -> list[Package]:
    return list(session.scalars(select(Package).where(Package.active.is_(True))
                                .order_by(Package.area, Package.sessions, Package.code)))

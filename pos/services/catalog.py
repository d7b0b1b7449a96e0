"""Creating and changing what the clinic sells and stocks: items (with their price history
and, for a bundle, its contents) and packages (with their bill of materials)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from pos.domain.catalog import BarcodeTaken, check_lines, check_spacing
from pos.domain.errors import Conflict, NotFound, UnknownItem, ValidationFailed
from pos.models import (
    BundleContent,
    ExpectedTreatments,
    Item,
    ItemPriceChange,
    Package,
    PackageSupply,
    Supplier,
    User,
)
from pos.models.catalog import AREAS, ITEM_KINDS, PRICE_FIELDS
from pos.services import audit
from pos.services.ledger import default_location, ensure_item_stock
from pos.services.transaction import write_transaction

# What PATCH /api/v1/items/{sku} may change (supplier_id: the purchasing issue).
ITEM_FIELDS = ("name", "price_cents", "cost_cents", "reorder_point", "reorder_quantity",
               "taxable", "barcode", "active", "supplier_id")
PACKAGE_FIELDS = ("name", "area", "sessions", "price_cents", "min_days_between",
                  "max_days_between", "active")


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
    active: bool = True


def _check_barcode(session: Session, barcode: str | None, item_id: int | None) -> None:
    """A barcode names one item: not another item's barcode, nor another item's sku (the
    checkout matches a sku before a barcode, so that barcode would never be found)."""
    if not barcode:
        return
    query = select(Item.sku).where(or_(Item.barcode == barcode, Item.sku == barcode))
    if item_id is not None:
        query = query.where(Item.id != item_id)
    other = session.scalar(query.limit(1))
    if other is not None:
        raise BarcodeTaken(f"The barcode {barcode!r} already belongs to item {other}.",
                           {"barcode": barcode, "sku": other})


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
    if session.scalar(select(Item.sku).where(Item.barcode == new.sku)) is not None:
        raise Conflict(f"{new.sku!r} is already another item's barcode.", {"sku": new.sku})
    _check_barcode(session, new.barcode, None)
    item = Item(**new.__dict__)
    session.add(item)
    try:
        session.flush()
    except IntegrityError:
        # Another request created the same sku or barcode since the checks above.
        raise Conflict(f"An item with sku {new.sku!r} or that barcode already exists.",
                       {"sku": new.sku, "barcode": new.barcode}) from None
    ensure_item_stock(session, item.id, default_location(session).id)
    audit.record(session, user_id, "item.create", "item", item.sku)
    return item


def update_item(sku: str, changes: Mapping[str, Any], user_id: int | None) -> Item:
    """Change some of an item's ITEM_FIELDS; a change of price or cost is kept as a row of
    its price history. Nothing changes unless everything may."""
    unknown = sorted(set(changes) - set(ITEM_FIELDS))
    if unknown:
        raise ValidationFailed("These fields cannot be changed here.",
                               {"fields": {name: "cannot be changed" for name in unknown}})
    with write_transaction() as session:
        item = session.scalar(select(Item).where(Item.sku == sku).with_for_update())
        if item is None:
            raise NotFound(f"No item with sku {sku!r}.", {"sku": sku})
        if "barcode" in changes:
            _check_barcode(session, changes["barcode"], item.id)
        if changes.get("supplier_id") is not None \
                and session.get(Supplier, changes["supplier_id"]) is None:
            raise NotFound(f"There is no supplier {changes['supplier_id']}.",
                           {"supplier_id": changes["supplier_id"],
                            "fields": {"supplier_id": "no such supplier"}})
        changed: dict[str, list[Any]] = {}
        for name, value in changes.items():
            old = getattr(item, name)
            if old == value:
                continue
            changed[name] = [old, value]
            if name in PRICE_FIELDS:
                session.add(ItemPriceChange(item_id=item.id, field=name, old_cents=old,
                                            new_cents=value, changed_by_id=user_id))
            setattr(item, name, value)
        try:
            session.flush()
        except IntegrityError:
            raise BarcodeTaken("That barcode was just given to another item.",
                               {"barcode": changes.get("barcode")}) from None
        if changed:
            # The name is the catalog's, not a person's: it may be audited.
            audit.record(session, user_id, "item.update", "item", item.sku, changes=changed)
        return item


@dataclass(frozen=True)
class PriceChangeRow:
    field: str
    old_cents: int
    new_cents: int
    changed_by: str | None
    change: ItemPriceChange


def price_history(session: Session, item: Item) -> list[PriceChangeRow]:
    """Every change of the item's price and cost, newest first, with who made it."""
    rows = session.execute(
        select(ItemPriceChange, User.email)
        .outerjoin(User, User.id == ItemPriceChange.changed_by_id)
        .where(ItemPriceChange.item_id == item.id)
        .order_by(ItemPriceChange.changed_at.desc(), ItemPriceChange.id.desc())).tuples()
    return [PriceChangeRow(c.field, c.old_cents, c.new_cents, email, c) for c, email in rows]


# -- bundle contents -------------------------------------------------------------------------

def bundle_contents(session: Session, item: Item) -> list[BundleContent]:
    return list(session.scalars(select(BundleContent).options(joinedload(BundleContent.item))
                                .where(BundleContent.bundle_id == item.id)
                                .order_by(BundleContent.id)))


def set_bundle_contents(sku: str, contents: tuple[tuple[str, int], ...],
                        user_id: int | None) -> Item:
    """Replace what one kit of a bundle item holds. The kit is stocked and handed out as one
    unit (its own lots), so this changes what staff put in it, not the stock of its parts."""
    check_lines(contents, "contents")
    with write_transaction() as session:
        bundle = session.scalar(select(Item).where(Item.sku == sku).with_for_update())
        if bundle is None:
            raise NotFound(f"No item with sku {sku!r}.", {"sku": sku})
        if bundle.kind != "bundle":
            raise ValidationFailed(f"{sku} is not a bundle: only a bundle has contents.",
                                   {"fields": {"sku": "is not a bundle"}})
        items = _items_by_sku(session, [s for s, _q in contents])
        if bundle.sku in items:
            raise ValidationFailed("A bundle cannot contain itself.",
                                   {"fields": {"contents": f"lists {bundle.sku}"}})
        for old in bundle_contents(session, bundle):
            session.delete(old)
        session.flush()
        for content_sku, quantity in contents:
            session.add(BundleContent(bundle_id=bundle.id, item_id=items[content_sku].id,
                                      quantity=quantity))
        session.flush()
        audit.record(session, user_id, "item.contents", "item", sku,
                     contents=[list(c) for c in contents])
        return bundle


def _items_by_sku(session: Session, skus: list[str]) -> dict[str, Item]:
    items = {item.sku: item for item in session.scalars(
        select(Item).where(Item.sku.in_(skus)))} if skus else {}
    for sku in skus:
        if sku not in items:
            raise UnknownItem(f"No item with sku {sku!r}.", {"sku": sku})
    return items


# -- packages --------------------------------------------------------------------------------

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
    active: bool = True


def _supplies_for(session: Session, supplies: tuple[tuple[str, int], ...]) -> list[PackageSupply]:
    check_lines(supplies, "supplies_per_session")
    items = _items_by_sku(session, [sku for sku, _quantity in supplies])
    return [PackageSupply(item_id=items[sku].id, quantity=quantity)
            for sku, quantity in supplies]


def _check_area(area: str) -> None:
    if area not in AREAS:
        raise ValidationFailed("Area must be face or scalp.", {"fields": {"area": "unknown"}})


def create_package(new: NewPackage, user_id: int | None) -> Package:
    _check_area(new.area)
    check_spacing(new.sessions, new.min_days_between, new.max_days_between)
    with write_transaction() as session:
        if session.scalar(select(Package.id).where(Package.code == new.code)) is not None:
            raise Conflict(f"A package with code {new.code!r} already exists.",
                           {"package_code": new.code})
        package = Package(code=new.code, name=new.name, area=new.area, sessions=new.sessions,
                          price_cents=new.price_cents, min_days_between=new.min_days_between,
                          max_days_between=new.max_days_between, active=new.active)
        package.supplies = _supplies_for(session, new.supplies)
        session.add(package)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(f"A package with code {new.code!r} already exists.",
                           {"package_code": new.code}) from None
        audit.record(session, user_id, "package.create", "package", package.code)
        return package


def _lock_package(session: Session, code: str) -> Package:
    package = session.scalar(select(Package).where(Package.code == code).with_for_update())
    if package is None:
        raise NotFound(f"No package {code!r}.", {"package_code": code})
    return package


def _replace_supplies(session: Session, package: Package, rows: list[PackageSupply]) -> None:
    # Delete the old lines first: the unit of work inserts before it deletes, and a line
    # kept for the same item would break the (package, item) unique constraint.
    package.supplies = []
    session.flush()
    package.supplies = rows
    session.flush()


def update_package(code: str, changes: Mapping[str, Any],
                   supplies: tuple[tuple[str, int], ...] | None, user_id: int | None) -> Package:
    """Change some of a package's PACKAGE_FIELDS and, when given, its bill of materials.
    Treatments read the bill when they are recorded and keep the lots they consumed, so
    this changes future treatments only; purchases keep the sessions they paid for."""
    unknown = sorted(set(changes) - set(PACKAGE_FIELDS))
    if unknown:
        raise ValidationFailed("These fields cannot be changed here.",
                               {"fields": {name: "cannot be changed" for name in unknown}})
    if "area" in changes:
        _check_area(changes["area"])
    with write_transaction() as session:
        package = _lock_package(session, code)
        merged = {name: changes.get(name, getattr(package, name)) for name in PACKAGE_FIELDS}
        check_spacing(merged["sessions"], merged["min_days_between"],
                      merged["max_days_between"])
        changed = {name: [getattr(package, name), value] for name, value in changes.items()
                   if getattr(package, name) != value}
        for name, value in changes.items():
            setattr(package, name, value)
        if supplies is not None:
            _replace_supplies(session, package, _supplies_for(session, supplies))
            changed["supplies_per_session"] = [list(s) for s in supplies]  # type: ignore[assignment]
        session.flush()
        if changed:
            audit.record(session, user_id, "package.update", "package", code, changes=changed)
        return package


def set_package_supplies(code: str, supplies: tuple[tuple[str, int], ...],
                         user_id: int | None) -> Package:
    """Replace a package's bill of materials. Treatments already recorded keep what they
    consumed (their lots are on the treatment), so this changes future treatments only."""
    with write_transaction() as session:
        package = _lock_package(session, code)
        _replace_supplies(session, package, _supplies_for(session, supplies))
        audit.record(session, user_id, "package.supplies", "package", code,
                     supplies=[list(s) for s in supplies])
        return package


def list_packages(session: Session, *, include_inactive: bool = False) -> list[Package]:
    query = select(Package).options(joinedload(Package.supplies).joinedload(PackageSupply.item),
                                    joinedload(Package.expected_treatments)
                                    .joinedload(ExpectedTreatments.set_by))
    if not include_inactive:
        query = query.where(Package.active.is_(True))
    return list(session.scalars(query.order_by(Package.area, Package.sessions, Package.code))
                .unique())


def package_by_code(session: Session, code: str) -> Package:
    package = session.scalar(select(Package).where(Package.code == code))
    if package is None:
        raise NotFound(f"No package {code!r}.", {"package_code": code})
    return package

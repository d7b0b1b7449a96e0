"""The reorder list: what to order, how much, and why (issue 16, parts 2 and 6).

Figures per item: on hand (one location or all), the last 30 days of use, what the expected
treatments of the next 14 days consume (their bills of materials x the managers' counts),
and what is already on order. The rules are pure functions in pos/domain/reorder.py.

The list holds the active items at or below their reorder point (on_hand, not available:
a card checkout's hold is not stock gone) and, when the clinic records expected treatments,
the items those treatments will take to their reorder point within the supplier's lead
time. Expected treatments and purchase orders belong to the clinic, not to a location: a
location's list compares its own shelf against them whole.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pos.domain import reorder
from pos.domain.errors import NotFound
from pos.domain.purchasing import ON_ORDER_STATUSES, order_after_on_order
from pos.domain.reorder import (
    BOOKING_HORIZON_DAYS,
    COVER_WINDOW_DAYS,
    OUTGOING_REASONS,
    ReorderBasis,
    days_of_cover_from,
    expected_use,
    falls_to_reorder_point_within_lead_time,
    order_for_expected_use,
)
from pos.domain.stock import stock_status
from pos.models import (
    ExpectedTreatments,
    Item,
    ItemStock,
    Location,
    Package,
    PackageSupply,
    PurchaseOrder,
    PurchaseOrderLine,
    StockMovement,
    Supplier,
)
from pos.services import clock


def on_order_by_item(session: Session, item_ids: list[int]) -> dict[int, int]:
    """Per item, ordered and not yet received on open purchase orders (drafts count)."""
    if not item_ids:
        return {}
    rows = session.execute(
        select(PurchaseOrderLine.item_id,
               func.sum(PurchaseOrderLine.quantity - PurchaseOrderLine.received))
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .where(PurchaseOrder.status.in_([str(s) for s in ON_ORDER_STATUSES]),
               PurchaseOrderLine.item_id.in_(item_ids))
        .group_by(PurchaseOrderLine.item_id))
    return {item_id: int(qty) for item_id, qty in rows}


def booked_use_by_item(session: Session, item_ids: list[int] | None = None) -> dict[int, int]:
    """Per item, the units the expected treatments of the next 14 days consume: each
    active package's count x its bill of materials, summed over packages."""
    query = (
        select(PackageSupply.item_id,
               func.sum(PackageSupply.quantity * ExpectedTreatments.count))
        .join(ExpectedTreatments, ExpectedTreatments.package_id == PackageSupply.package_id)
        .join(Package, Package.id == PackageSupply.package_id)
        .where(Package.active.is_(True), ExpectedTreatments.count > 0)
        .group_by(PackageSupply.item_id))
    if item_ids is not None:
        if not item_ids:
            return {}
        query = query.where(PackageSupply.item_id.in_(item_ids))
    return {item_id: int(qty) for item_id, qty in session.execute(query) if qty}


@dataclass(frozen=True)
class Cover:
    item_id: int
    on_hand: int
    available: int
    used_last_30_days: int
    days: int | None  # None: nothing used in the window, the stock lasts indefinitely


def days_of_cover(session: Session, item_ids: Iterable[int], now: datetime | None = None,
                  location_id: int | None = None) -> dict[int, Cover]:
    """Each item's stock and its last 30 days of consumption, in one grouped query
    (at one location when `location_id` is given, else summed over all)."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    since = (now or clock.now()) - timedelta(days=COVER_WINDOW_DAYS)
    used_query = (
        select(StockMovement.item_id.label("item_id"),
               func.sum(-StockMovement.qty_delta).label("used"))
        .where(StockMovement.item_id.in_(ids), StockMovement.at >= since,
               StockMovement.qty_delta < 0, StockMovement.reason.in_(OUTGOING_REASONS))
        .group_by(StockMovement.item_id)
    )
    stock_query = (
        select(ItemStock.item_id, func.sum(ItemStock.on_hand),
               func.sum(ItemStock.on_hand - ItemStock.held))
        .where(ItemStock.item_id.in_(ids))
    )
    if location_id is not None:
        used_query = used_query.where(StockMovement.location_id == location_id)
        stock_query = stock_query.where(ItemStock.location_id == location_id)
    used = used_query.subquery()
    rows = session.execute(
        stock_query.add_columns(func.coalesce(func.max(used.c.used), 0))
        .outerjoin(used, used.c.item_id == ItemStock.item_id)
        .group_by(ItemStock.item_id)
    ).all()
    out = {}
    for item_id, on_hand, available, used_qty in rows:
        out[item_id] = Cover(item_id, int(on_hand), int(available), int(used_qty),
                             reorder.days_of_cover(int(on_hand), int(used_qty)))
    for item_id in ids:  # an item without a stock row yet has nothing and used nothing
        out.setdefault(item_id, Cover(item_id, 0, 0, 0, None))
    return out


def suggested_quantity(item: Item, cover: Cover, cover_days: int, booked_use: int = 0) -> int:
    """`cover_days`: REORDER_COVER_DAYS, the days an order should last; `booked_use`: what
    the expected treatments of the next 14 days consume (before what is on order)."""
    use = expected_use(cover.used_last_30_days, booked_use, cover_days)
    return order_for_expected_use(item.reorder_quantity, cover.on_hand, use.quantity)


@dataclass(frozen=True)
class ReorderRow:
    sku: str
    name: str
    unit: str
    on_hand: int
    available: int
    reorder_point: int
    reorder_quantity: int
    suggested_quantity: int
    days_of_cover: int | None
    used_last_30_days: int
    on_order: int = 0
    supplier_id: int | None = None
    # What the expected treatments of the next 14 days consume, and where the suggested
    # figure came from ("usage": the last 30 days; "bookings": the expected treatments).
    booked_next_14_days: int = 0
    expected_use: int = 0
    basis: str = ReorderBasis.USAGE
    # Above its reorder point today, but the expected treatments take it there within
    # the supplier's lead time.
    ahead_of_bookings: bool = False

    @property
    def status(self) -> str:
        return stock_status(self.on_hand, self.reorder_point)


def location_or_404(session: Session, location_id: int) -> Location:
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound(f"No location {location_id}.", {"location_id": location_id})
    return location


def reorder_list(session: Session, cover_days: int, now: datetime | None = None,
                 location_id: int | None = None) -> list[ReorderRow]:
    """Active items whose on-hand stock is at or below their reorder point (holds do not
    count: a card checkout is not stock gone), and those the expected treatments will take
    there within their supplier's lead time (no supplier: the 14 days the counts cover);
    out of stock first, then by name. `location_id`: that location's shelf only."""
    if location_id is not None:
        location_or_404(session, location_id)
    booked = booked_use_by_item(session)
    stock_join = ItemStock.item_id == Item.id
    if location_id is not None:
        stock_join = stock_join & (ItemStock.location_id == location_id)
    on_hand = func.coalesce(func.sum(ItemStock.on_hand), 0)
    listed = on_hand <= Item.reorder_point
    if booked:
        listed = or_(listed, Item.id.in_(sorted(booked)))
    found = session.execute(
        select(Item, Supplier.lead_time_days).outerjoin(ItemStock, stock_join)
        .outerjoin(Supplier, Supplier.id == Item.supplier_id)
        .where(Item.active.is_(True)).group_by(Item.id, Supplier.lead_time_days)
        .having(listed)
    ).all()
    ids = [item.id for item, _ in found]
    covers = days_of_cover(session, ids, now, location_id)
    on_order = on_order_by_item(session, ids)
    rows = []
    for item, lead_time in found:
        cover = covers[item.id]
        ordered = on_order.get(item.id, 0)
        booked_use = booked.get(item.id, 0)
        ahead = cover.on_hand > item.reorder_point
        if ahead and not falls_to_reorder_point_within_lead_time(
                cover.on_hand, ordered, item.reorder_point, cover.used_last_30_days,
                booked_use, BOOKING_HORIZON_DAYS if lead_time is None else lead_time):
            continue
        use = expected_use(cover.used_last_30_days, booked_use, cover_days)
        rows.append(ReorderRow(
            sku=item.sku, name=item.name, unit=item.unit, on_hand=cover.on_hand,
            available=cover.available, reorder_point=item.reorder_point,
            reorder_quantity=item.reorder_quantity,
            # What is already on order (drafts included) is not suggested again.
            suggested_quantity=order_after_on_order(
                order_for_expected_use(item.reorder_quantity, cover.on_hand, use.quantity),
                ordered),
            days_of_cover=days_of_cover_from(cover.on_hand, cover.used_last_30_days,
                                             booked_use),
            used_last_30_days=cover.used_last_30_days, on_order=ordered,
            supplier_id=item.supplier_id, booked_next_14_days=booked_use,
            expected_use=use.quantity, basis=str(use.basis), ahead_of_bookings=ahead))
    rows.sort(key=lambda r: (r.on_hand > 0, r.name.lower(), r.sku))
    return rows

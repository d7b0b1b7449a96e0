"""The only code that moves stock: appends ledger rows and keeps the on-hand caches with them.

Callers are services already inside `write_transaction()`. They first lock the stock rows
of every item they will touch with `lock_items()` (one statement, item-id order, so two
transactions can never wait on each other in a cycle), then post movements, holds and
releases. Each touched item's available stock *before* the transaction's first change is
remembered in `session.info`, so the alerts hook can see what the whole transaction did.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pos.domain.errors import InsufficientStock, NotFound, ValidationFailed
from pos.domain.limits import MAX_STORED_COUNT
from pos.domain.stock import LotOnHand, choose_lots
from pos.models import ItemStock, Location, Lot, LotStock, StockMovement
from pos.models.inventory import DEFAULT_LOCATION_CODE

TOUCHED_KEY = "stock_on_hand_before"
# The on-hand caches are INTEGER columns (32-bit on PostgreSQL).
MAX_ON_HAND = MAX_STORED_COUNT


def default_location(session: Session) -> Location:
    location = session.scalar(select(Location).where(Location.code == DEFAULT_LOCATION_CODE))
    if location is None:
        location = Location(code=DEFAULT_LOCATION_CODE, name="Main clinic")
        session.add(location)
        session.flush()
    return location


def location_or_default(session: Session, location_id: int | None) -> Location:
    """The location named (404 `not_found` if there is none), or the clinic's first one."""
    if location_id is None:
        return default_location(session)
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound(f"No location {location_id}.", {"location": location_id})
    return location


def ensure_item_stock(session: Session, item_id: int, location_id: int) -> None:
    """Create the item's stock row at a location (done when the item is created).

    INSERT ... ON CONFLICT DO NOTHING: two transactions bringing an item's first stock to
    a new location at the same moment both find the row there afterwards, neither fails.
    """
    _insert_stock_rows(session, item_id, [location_id])


def _insert_stock_rows(session: Session, item_id: int, location_ids: list[int]) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    session.execute(insert(ItemStock).values(
        [{"item_id": item_id, "location_id": location_id, "on_hand": 0, "held": 0}
         for location_id in location_ids]).on_conflict_do_nothing(
        index_elements=["item_id", "location_id"]))


def lock_items(session: Session, item_ids: Iterable[int], location_id: int) -> dict[int, ItemStock]:
    """Lock the stock rows of these items, in item-id order, and return them by item id."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    rows = session.scalars(
        select(ItemStock)
        .where(ItemStock.item_id.in_(ids), ItemStock.location_id == location_id)
        .order_by(ItemStock.item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_item = {row.item_id: row for row in rows}
    missing = [i for i in ids if i not in by_item]
    if missing:  # an item created before its stock row: create it, then lock it too
        for item_id in missing:
            ensure_item_stock(session, item_id, location_id)
        return lock_items(session, ids, location_id)
    return by_item


def lock_item_at(session: Session, item_id: int,
                 location_ids: Iterable[int]) -> dict[int, ItemStock]:
    """Lock one item's stock rows at several locations (a transfer), by location id.

    The lock order is (item id, location id) everywhere: `lock_items()` locks one
    location's rows in item order, this one item's rows in location order, so a transfer
    and the sales at either end never wait on each other in a cycle.
    """
    ids = sorted(set(location_ids))
    # A location's first stock of the item: its row, once, even with two transfers racing.
    _insert_stock_rows(session, item_id, ids)
    rows = session.scalars(
        select(ItemStock)
        .where(ItemStock.item_id == item_id, ItemStock.location_id.in_(ids))
        .order_by(ItemStock.location_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.location_id: row for row in rows}


def _remember_before(session: Session, stock: ItemStock) -> None:
    before = session.info.setdefault(TOUCHED_KEY, {})
    # Alerts follow what is on the shelf (on_hand), not what is free to sell: a card
    # checkout's hold moves `held` only, so it never raises an alert.
    before.setdefault((stock.item_id, stock.location_id), stock.on_hand)


def post_movement(
    session: Session,
    stock: ItemStock,
    lot: Lot,
    qty_delta: int,
    reason: str,
    *,
    reference: str | None = None,
    user_id: int | None = None,
    note: str | None = None,
    lot_stock: LotStock | None = None,
    flush: bool = True,
) -> StockMovement:
    """Append one ledger row and apply it to the caches. `stock` must be locked.

    `lot_stock` is the lot's row at the stock's location when the caller has it already
    (read after `stock` was locked); `flush=False` leaves the writes to the next flush, so
    several movements go to the database together.
    """
    if qty_delta == 0:
        raise ValueError("a movement moves something")
    if lot_stock is None or lot_stock.lot_id != lot.id \
            or lot_stock.location_id != stock.location_id:
        lot_stock = session.scalar(
            select(LotStock).where(LotStock.lot_id == lot.id,
                                   LotStock.location_id == stock.location_id)
        )
    if lot_stock is None:
        lot_stock = LotStock(lot_id=lot.id, item_id=lot.item_id,
                             location_id=stock.location_id, on_hand=0)
        session.add(lot_stock)
    if lot_stock.on_hand + qty_delta < 0 or stock.on_hand + qty_delta < stock.held:
        on_hand = lot_stock.on_hand if lot_stock.on_hand + qty_delta < 0 else stock.available
        raise InsufficientStock(
            f"Not enough stock of {lot.item.sku}: {-qty_delta} needed, {on_hand} available.",
            {"sku": lot.item.sku, "lot": lot.code, "requested": -qty_delta,
             "available": on_hand},
        )
    if stock.on_hand + qty_delta > MAX_ON_HAND:
        raise ValidationFailed(
            f"That would put more than {MAX_ON_HAND:,} of {lot.item.sku} on hand.",
            {"fields": {"quantity": f"would put more than {MAX_ON_HAND} on hand"},
             "sku": lot.item.sku},
        )
    _remember_before(session, stock)
    lot_stock.on_hand += qty_delta
    stock.on_hand += qty_delta
    movement = StockMovement(
        item_id=stock.item_id, lot_id=lot.id, location_id=stock.location_id,
        qty_delta=qty_delta, reason=reason, reference=reference, user_id=user_id, note=note,
    )
    session.add(movement)
    if flush:
        session.flush()
    return movement


def usable_lots(session: Session, item_id: int, location_id: int) -> list[tuple[Lot, int]]:
    return [(lot, lot_stock.on_hand)
            for lot, lot_stock in _usable_lot_stock(session, item_id, location_id)]


def _usable_lot_stock(session: Session, item_id: int,
                      location_id: int) -> list[tuple[Lot, LotStock]]:
    """The lots with stock at the location, each with its (current) LotStock row."""
    return usable_lot_stock(session, [item_id], location_id).get(item_id, [])


def usable_lot_stock(session: Session, item_ids: Iterable[int],
                     location_id: int) -> dict[int, list[tuple[Lot, LotStock]]]:
    """The lots with stock at the location of several items in one query, by item id,
    each with its LotStock row. Read them after `lock_items()` locked those items; pass
    each item's list to `consume_fefo(lots=...)`."""
    ids = sorted(set(item_ids))
    by_item: dict[int, list[tuple[Lot, LotStock]]] = {item_id: [] for item_id in ids}
    if not ids:
        return by_item
    rows = session.execute(
        select(Lot, LotStock)
        .join(LotStock, LotStock.lot_id == Lot.id)
        .where(Lot.item_id.in_(ids), LotStock.location_id == location_id,
               LotStock.on_hand > 0)
        .order_by(Lot.id)
        .execution_options(populate_existing=True)
    ).all()
    for lot, lot_stock in rows:
        by_item[lot.item_id].append((lot, lot_stock))
    return by_item


def consume_fefo(
    session: Session,
    stock: ItemStock,
    quantity: int,
    today: date,
    reason: str,
    *,
    sku: str,
    reference: str | None = None,
    user_id: int | None = None,
    from_held: int = 0,
    lots: list[tuple[Lot, LotStock]] | None = None,
) -> list[tuple[Lot, int]]:
    """Take `quantity` from the lots that expire first (never an expired one).

    `from_held` is how much of it was held for this very use (a card sale being paid):
    that part is released from the hold as it leaves the shelf.
    `lots` is this item's entry of `usable_lot_stock()` when the caller read several items'
    lots at once (the in-memory rows follow every movement posted since).
    """
    if lots is None:
        found = _usable_lot_stock(session, stock.item_id, stock.location_id)
    else:
        found = [(lot, lot_stock) for lot, lot_stock in lots
                 if lot_stock.on_hand > 0 and lot_stock.location_id == stock.location_id]
    by_id = {lot.id: (lot, lot_stock) for lot, lot_stock in found}
    # What others hold is not ours to take, even if it sits in these lots.
    free = stock.available + from_held
    if free < quantity:
        raise InsufficientStock(
            f"Not enough stock of {sku}: {quantity} needed, {max(free, 0)} available.",
            {"sku": sku, "requested": quantity, "available": max(free, 0)},
        )
    plan = choose_lots(
        [LotOnHand(lot.id, lot.expires_on, lot_stock.on_hand) for lot, lot_stock in found],
        quantity, today, sku=sku,
    )
    if from_held:
        release_hold(session, stock, from_held)
    taken = []
    for lot_id, qty in plan:
        lot, lot_stock = by_id[lot_id]
        # Written with the transaction's next flush (or its commit), all lots together.
        post_movement(session, stock, lot, -qty, reason, reference=reference,
                      user_id=user_id, lot_stock=lot_stock, flush=False)
        taken.append((lot, qty))
    return taken


def place_hold(session: Session, stock: ItemStock, quantity: int, *, sku: str) -> None:
    """Reserve stock for an unpaid card sale: still on the shelf, but nobody else sells it."""
    if quantity > stock.available:
        raise InsufficientStock(
            f"Not enough stock of {sku}: {quantity} needed, {stock.available} available.",
            {"sku": sku, "requested": quantity, "available": stock.available},
        )
    _remember_before(session, stock)
    stock.held += quantity
    session.flush()


def release_hold(session: Session, stock: ItemStock, quantity: int) -> None:
    _remember_before(session, stock)
    stock.held = max(stock.held - quantity, 0)
    session.flush()

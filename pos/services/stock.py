"""Receiving, adjusting and reading stock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from pos.domain.errors import InsufficientStock, LotExpired, NotFound, UnknownItem, ValidationFailed
from pos.domain.purchasing import LotRequired, needs_lot
from pos.domain.stock import ADJUSTMENT_REASONS, LotOnHand, fefo_order, is_expired, stock_status
from pos.models import (
    Alert,
    Item,
    ItemStock,
    Lot,
    LotStock,
    StockMovement,
    User,
)
from pos.services import alerts, audit, clock
from pos.services.ledger import location_or_default, lock_items, post_movement
from pos.services.transaction import write_transaction
from pos.settings import Settings

NO_LOT = "NOLOT"  # retail stock received without a lot number (a clinical supply needs one)


@dataclass(frozen=True)
class MovementResult:
    movement_id: int
    on_hand: int


def item_by_sku(session: Session, sku: str) -> Item:
    item = session.scalar(select(Item).where(Item.sku == sku))
    if item is None:
        raise UnknownItem(f"No item with sku {sku!r}.", {"sku": sku})
    return item


def receive_stock(
    *, sku: str, quantity: int, lot_code: str | None, expires_on: date | None,
    unit_cost_cents: int | None, user_id: int | None, location_id: int | None = None,
) -> MovementResult:
    today = clock.today()  # read before the write transaction: it may need the settings row
    with write_transaction() as session:
        item = item_by_sku(session, sku)
        location = location_or_default(session, location_id)
        stock = lock_items(session, [item.id], location.id)[item.id]
        movement = receive_into(session, stock, item, quantity=quantity, lot_code=lot_code,
                                expires_on=expires_on, unit_cost_cents=unit_cost_cents,
                                user_id=user_id, reference="receipt", today=today)
        return MovementResult(movement.id, stock.on_hand)


def check_receipt(item: Item, quantity: int, lot_code: str | None,
                  expires_on: date | None, today: date) -> None:
    """What any receipt must be: at least 1, a supply with its lot and expiry, not expired."""
    if quantity < 1:
        raise ValidationFailed("Quantity received must be at least 1.",
                               {"fields": {"quantity": "must be at least 1"}})
    if is_expired(expires_on, today):
        assert expires_on is not None
        raise LotExpired(
            f"{f'Lot {lot_code}' if lot_code else 'This stock'} expired on "
            f"{expires_on.isoformat()}; it cannot be received.",
            {"lot": lot_code, "expires_on": expires_on.isoformat()},
        )
    if needs_lot(item.kind, lot_code, expires_on):
        missing = {name: "required for a clinical supply" for name, value
                   in (("lot", lot_code), ("expires_on", expires_on)) if not value}
        raise LotRequired(
            f"{item.name} is a clinical supply: enter its lot number and expiry date.",
            {"sku": item.sku, "fields": missing})


def receive_into(
    session: Session, stock: ItemStock, item: Item, *, quantity: int, lot_code: str | None,
    expires_on: date | None, unit_cost_cents: int | None, user_id: int | None,
    reference: str, today: date,
) -> StockMovement:
    """Receive into the item's lot (created on first receipt). `stock` is locked already;
    `today` was read before the transaction began."""
    check_receipt(item, quantity, lot_code, expires_on, today)
    code = lot_code or NO_LOT
    lot = session.scalar(select(Lot).where(Lot.item_id == item.id, Lot.code == code))
    if lot is None:
        lot = Lot(item_id=item.id, code=code, expires_on=expires_on,
                  unit_cost_cents=item.cost_cents if unit_cost_cents is None
                  else unit_cost_cents)
        session.add(lot)
        session.flush()
    elif lot.expires_on != expires_on:
        raise ValidationFailed(
            f"Lot {code} is already recorded with expiry "
            f"{lot.expires_on.isoformat() if lot.expires_on else 'none'}; a manager can "
            f"correct a lot's expiry from the item's page.",
            {"fields": {"expires_on": "differs from the lot's recorded expiry"}},
        )
    movement = post_movement(session, stock, lot, quantity, "receipt",
                             reference=reference, user_id=user_id)
    audit.record(session, user_id, "stock.receive", "item", item.sku,
                 lot=code, quantity=quantity, movement_id=movement.id, reference=reference)
    return movement


def adjust_stock(
    *, sku: str, lot_code: str | None, qty_delta: int, reason: str, note: str | None,
    user_id: int | None, location_id: int | None = None,
) -> MovementResult:
    if reason not in ADJUSTMENT_REASONS:
        raise ValidationFailed(
            f"Reason must be one of {', '.join(ADJUSTMENT_REASONS)}.",
            {"fields": {"reason": "unknown reason"}},
        )
    if qty_delta == 0:
        raise ValidationFailed("An adjustment must change the quantity.",
                               {"fields": {"qty_delta": "must not be 0"}})
    with write_transaction() as session:
        item = item_by_sku(session, sku)
        location = location_or_default(session, location_id)
        stock = lock_items(session, [item.id], location.id)[item.id]
        code = lot_code or NO_LOT
        lot = session.scalar(select(Lot).where(Lot.item_id == item.id, Lot.code == code))
        if lot is None:
            if qty_delta < 0:
                raise InsufficientStock(
                    f"There is no lot {code} of {sku} to take from.",
                    {"sku": sku, "lot": code, "requested": -qty_delta, "available": 0},
                )
            raise NotFound(f"No lot {code} of {sku}; receive new stock instead.",
                           {"sku": sku, "lot": code})
        movement = post_movement(session, stock, lot, qty_delta, reason,
                                 reference="adjustment", user_id=user_id, note=note)
        audit.record(session, user_id, "stock.adjust", "item", item.sku,
                     lot=code, qty_delta=qty_delta, reason=reason, movement_id=movement.id)
        return MovementResult(movement.id, stock.on_hand)


@dataclass(frozen=True)
class ItemRow:
    item: Item
    on_hand: int
    held: int
    on_order: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.held

    @property
    def status(self) -> str:
        return stock_status(self.available, self.item.reorder_point)


def list_items(session: Session, *, q: str | None = None, kind: str | None = None,
               include_inactive: bool = False, barcode: str | None = None,
               only_inactive: bool = False, location_id: int | None = None) -> list[ItemRow]:
    """Every item with its stock at the location (None: summed over locations), in one
    query."""
    on_hand = func.coalesce(func.sum(ItemStock.on_hand), 0)
    held = func.coalesce(func.sum(ItemStock.held), 0)
    joined = ItemStock.item_id == Item.id
    if location_id is not None:
        joined = and_(joined, ItemStock.location_id == location_id)
    query = (select(Item, on_hand, held).outerjoin(ItemStock, joined)
             .group_by(Item.id).order_by(Item.kind, Item.name))
    if only_inactive:
        query = query.where(Item.active.is_(False))
    elif not include_inactive:
        query = query.where(Item.active.is_(True))
    if barcode is not None:
        query = query.where(Item.barcode == barcode)
    if kind:
        query = query.where(Item.kind == kind)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(Item.name).like(like), func.lower(Item.sku).like(like),
                                Item.barcode == q))
    rows = list(session.execute(query))
    on_order = alerts.on_order_by_item(session, [item.id for item, _, _ in rows])
    return [ItemRow(item, int(oh), int(h), on_order.get(item.id, 0)) for item, oh, h in rows]


def item_row(session: Session, sku: str, location_id: int | None = None) -> ItemRow:
    item = session.scalar(select(Item).where(Item.sku == sku))
    if item is None:
        raise NotFound(f"No item with sku {sku!r}.", {"sku": sku})
    query = select(func.coalesce(func.sum(ItemStock.on_hand), 0),
                   func.coalesce(func.sum(ItemStock.held), 0)).where(ItemStock.item_id == item.id)
    if location_id is not None:
        query = query.where(ItemStock.location_id == location_id)
    oh, h = session.execute(query).one()
    on_order = alerts.on_order_by_item(session, [item.id]).get(item.id, 0)
    return ItemRow(item, int(oh), int(h), on_order)


@dataclass(frozen=True)
class LotRow:
    lot: Lot
    on_hand: int
    expired: bool


def item_lots(session: Session, item: Item, location_id: int | None = None) -> list[LotRow]:
    """The item's lots with stock (at the location, or anywhere), soonest expiry first."""
    query = (select(Lot, func.sum(LotStock.on_hand)).join(LotStock, LotStock.lot_id == Lot.id)
             .where(Lot.item_id == item.id))
    if location_id is not None:
        query = query.where(LotStock.location_id == location_id)
    rows = session.execute(
        query.group_by(Lot.id).having(func.sum(LotStock.on_hand) > 0)).all()
    lots = {lot.id: lot for lot, _ in rows}
    ordered = fefo_order(LotOnHand(lot.id, lot.expires_on, int(qty)) for lot, qty in rows)
    today = clock.today()
    return [LotRow(lots[r.lot_id], r.on_hand, is_expired(r.expires_on, today)) for r in ordered]


def _movements_where(item: Item, location_id: int | None) -> list[ColumnElement[bool]]:
    where = [StockMovement.item_id == item.id]
    if location_id is not None:
        where.append(StockMovement.location_id == location_id)
    return where


def item_movements(session: Session, item: Item, limit: int = 200, offset: int = 0,
                   location_id: int | None = None) -> list[
        tuple[StockMovement, str, str | None]]:
    """The item's ledger (at the location, or everywhere), newest first, with each row's
    lot code and user email."""
    return list(session.execute(
        select(StockMovement, Lot.code, User.email)
        .join(Lot, Lot.id == StockMovement.lot_id)
        .outerjoin(User, User.id == StockMovement.user_id)
        .where(*_movements_where(item, location_id))
        .order_by(StockMovement.id.desc()).limit(limit).offset(offset)
    ).tuples())


def item_movements_page(session: Session, item: Item, *, page: int, per_page: int,
                        location_id: int | None = None) -> tuple[
        list[tuple[StockMovement, str, str | None]], int]:
    """One page of the item's ledger, newest first, and how many movements it has in all."""
    total = session.scalar(select(func.count()).select_from(StockMovement)
                           .where(*_movements_where(item, location_id))) or 0
    return item_movements(session, item, limit=per_page, offset=(page - 1) * per_page,
                          location_id=location_id), total


def correct_lot_expiry(*, sku: str, lot_code: str, expires_on: date, reason: str,
                       user_id: int | None, settings: Settings) -> Lot:
    """A manager corrects a lot's expiry (a typo at receipt, a lot received without one).

    Audited with the old date, the new one and the reason. The lot's expiry alerts are
    re-evaluated: open ones about the old date are closed by this correction, and the
    expiry check runs again, so a lot that now expires soon (or already has) alerts anew.
    """
    if not reason.strip():
        raise ValidationFailed("Say why the expiry is corrected.",
                               {"fields": {"reason": "required"}})
    with write_transaction() as session:
        item = item_by_sku(session, sku)
        lot = session.scalar(select(Lot).where(Lot.item_id == item.id, Lot.code == lot_code)
                             .with_for_update())
        if lot is None:
            raise NotFound(f"No lot {lot_code} of {sku}.", {"sku": sku, "lot": lot_code})
        old = lot.expires_on
        lot.expires_on = expires_on
        lot.expiry_alerted_at = None
        now = clock.now()
        for alert in session.scalars(select(Alert).where(
                Alert.lot_id == lot.id, Alert.kind == "expiring_lot",
                Alert.acknowledged_at.is_(None))):
            alert.acknowledged_at = now
            alert.acknowledged_by_id = user_id
        audit.record(session, user_id, "lot.correct_expiry", "lot", f"{item.sku}/{lot.code}",
                     old=old.isoformat() if old else None, new=expires_on.isoformat(),
                     reason=reason)
    alerts.check_expiring_lots(settings)
    return lot

"""Purchase orders: drafted (by hand or from the reorder list), sent to the supplier by
email once, received in part or whole through the stock ledger, or cancelled.

Receiving locks the order row, then its line rows (FOR UPDATE, by id), then the items'
stock rows (item-id order, as every stock writer does): two managers receiving the same
line at once are served one after the other, and the second sees what the first
received, so a line is never received past its quantity (the CHECK `received <=
quantity` would refuse it anyway).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from pos.domain.errors import NotFound, UnknownItem, ValidationFailed
from pos.domain.money import format_cents
from pos.domain.purchasing import (
    CANCELLABLE_STATUSES,
    RECEIVABLE_STATUSES,
    AlreadySent,
    PurchaseOrderClosed,
    PurchaseOrderStatus,
    ReceiptExceedsOrder,
    status_after_receipt,
    still_due,
)
from pos.models import Alert, Item, OutboxMessage, PurchaseOrder, PurchaseOrderLine, Supplier
from pos.services import audit, clock, reorder
from pos.services.clinic import clinic_settings
from pos.services.ledger import location_or_default, lock_items
from pos.services.stock import receive_into
from pos.services.transaction import write_transaction


@dataclass(frozen=True)
class OrderLineIn:
    sku: str
    quantity: int
    unit_cost_cents: int | None = None


@dataclass(frozen=True)
class ReceiptLineIn:
    sku: str
    quantity: int
    lot: str | None
    expires_on: date | None


def _order(session: Session, order_id: int, *, lock: bool = False) -> PurchaseOrder:
    query = select(PurchaseOrder).where(PurchaseOrder.id == order_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    order = session.scalar(query)
    if order is None:
        raise NotFound(f"There is no purchase order {order_id}.", {"purchase_order_id": order_id})
    return order


def get_order(session: Session, order_id: int) -> PurchaseOrder:
    order = session.scalar(
        select(PurchaseOrder).options(joinedload(PurchaseOrder.supplier),
                                      selectinload(PurchaseOrder.lines)
                                      .joinedload(PurchaseOrderLine.item))
        .where(PurchaseOrder.id == order_id))
    if order is None:
        raise NotFound(f"There is no purchase order {order_id}.", {"purchase_order_id": order_id})
    return order


def orders_page(session: Session, *, page: int, per_page: int,
                status: str | None = None) -> tuple[list[PurchaseOrder], int]:
    count = select(func.count(PurchaseOrder.id))
    query = (select(PurchaseOrder).options(joinedload(PurchaseOrder.supplier),
                                           selectinload(PurchaseOrder.lines)
                                           .joinedload(PurchaseOrderLine.item))
             .order_by(PurchaseOrder.id.desc()).offset((page - 1) * per_page).limit(per_page))
    if status:
        count = count.where(PurchaseOrder.status == status)
        query = query.where(PurchaseOrder.status == status)
    return list(session.scalars(query)), int(session.scalar(count) or 0)


def _items(session: Session, skus: Sequence[str]) -> dict[str, Item]:
    items = {i.sku: i for i in session.scalars(select(Item).where(Item.sku.in_(set(skus))))}
    for sku in skus:
        if sku not in items:
            raise UnknownItem(f"No item with sku {sku!r}.", {"sku": sku})
    return items


def _check_lines(lines: Sequence[OrderLineIn | ReceiptLineIn]) -> None:
    if not lines:
        raise ValidationFailed("An order needs at least one line.",
                               {"fields": {"lines": "at least one line"}})
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise ValidationFailed("Each item goes on one line.",
                               {"fields": {"lines": "an item on two lines"}})


def _add_order(session: Session, supplier: Supplier, lines: Sequence[OrderLineIn],
               user_id: int | None) -> PurchaseOrder:
    items = _items(session, [line.sku for line in lines])
    order = PurchaseOrder(supplier_id=supplier.id, status=PurchaseOrderStatus.DRAFT,
                          created_by_id=user_id)
    order.lines = [PurchaseOrderLine(
        item_id=items[line.sku].id, quantity=line.quantity, received=0,
        unit_cost_cents=items[line.sku].cost_cents if line.unit_cost_cents is None
        else line.unit_cost_cents) for line in lines]
    session.add(order)
    session.flush()
    audit.record(session, user_id, "purchase_order.create", "purchase_order", order.id,
                 supplier_id=supplier.id,
                 lines=[{"sku": line.sku, "quantity": line.quantity} for line in lines])
    return order


def create_order(supplier_id: int, lines: Sequence[OrderLineIn],
                 user_id: int | None) -> PurchaseOrder:
    _check_lines(lines)
    with write_transaction() as session:
        supplier = session.get(Supplier, supplier_id)
        if supplier is None:
            raise NotFound(f"There is no supplier {supplier_id}.",
                           {"supplier_id": supplier_id,
                            "fields": {"supplier_id": "no such supplier"}})
        return _add_order(session, supplier, lines, user_id)


def replace_lines(order_id: int, lines: Sequence[OrderLineIn],
                  user_id: int | None) -> PurchaseOrder:
    """Edit a draft: its lines become these."""
    _check_lines(lines)
    with write_transaction() as session:
        order = _order(session, order_id, lock=True)
        if order.status != PurchaseOrderStatus.DRAFT:
            raise PurchaseOrderClosed(f"Purchase order {order.id} is {order.status}; only a "
                                      f"draft can be edited.", {"status": order.status})
        items = _items(session, [line.sku for line in lines])
        order.lines.clear()
        session.flush()
        for line in lines:
            order.lines.append(PurchaseOrderLine(
                item_id=items[line.sku].id, quantity=line.quantity, received=0,
                unit_cost_cents=items[line.sku].cost_cents if line.unit_cost_cents is None
                else line.unit_cost_cents))
        session.flush()
        audit.record(session, user_id, "purchase_order.edit", "purchase_order", order.id,
                     lines=[{"sku": line.sku, "quantity": line.quantity} for line in lines])
        return order


@dataclass(frozen=True)
class Drafted:
    orders: list[PurchaseOrder]
    skipped: list[str]  # skus on the reorder list with no supplier


def drafts_from_reorder(cover_days: int, user_id: int | None) -> Drafted:
    """One draft per supplier with what the reorder list suggests (what is already on
    order is subtracted there, so a second click drafts nothing new)."""
    with write_transaction() as session:
        rows = [r for r in reorder.reorder_list(session, cover_days) if r.suggested_quantity > 0]
        by_supplier: dict[int, list[OrderLineIn]] = {}
        skipped = []
        for row in rows:
            if row.supplier_id is None:
                skipped.append(row.sku)
                continue
            by_supplier.setdefault(row.supplier_id, []).append(
                OrderLineIn(row.sku, row.suggested_quantity))
        orders = []
        for supplier_id in sorted(by_supplier):
            supplier = session.get(Supplier, supplier_id)
            assert supplier is not None
            orders.append(_add_order(session, supplier, by_supplier[supplier_id], user_id))
        return Drafted(orders, skipped)


def order_text(session: Session, order: PurchaseOrder) -> tuple[str, str]:
    """(subject, body) of the order as the supplier reads it."""
    clinic = clinic_settings(session)
    total = sum(line.quantity * line.unit_cost_cents for line in order.lines)
    lines = [f"Purchase order {order.id} from {clinic.clinic_name}", "",
             f"To: {order.supplier.name}", ""]
    for line in order.lines:
        lines.append(f"  {line.item.sku}  {line.item.name}: {line.quantity} {line.item.unit}"
                     f" at {format_cents(line.unit_cost_cents)}")
    lines += ["", f"Total: {format_cents(total)}", "",
              f"Please quote purchase order {order.id} on the delivery note."]
    return f"Purchase order {order.id} from {clinic.clinic_name}", "\n".join(lines)


def send_order(order_id: int, user_id: int | None) -> PurchaseOrder:
    """Email the order to the supplier through the outbox, once (a unique dedupe key)."""
    with write_transaction() as session:
        order = _order(session, order_id, lock=True)
        if order.status != PurchaseOrderStatus.DRAFT:
            raise AlreadySent(f"Purchase order {order.id} is {order.status}: it is sent once, "
                              f"as a draft.", {"status": order.status})
        subject, body = order_text(session, order)
        session.add(OutboxMessage(channel="email", topic="purchase_order",
                                  dedupe_key=f"purchase_order:{order.id}",
                                  recipients=order.supplier.email, subject=subject, body=body))
        order.status = PurchaseOrderStatus.SENT
        order.sent_at = clock.now()
        audit.record(session, user_id, "purchase_order.send", "purchase_order", order.id,
                     supplier_id=order.supplier_id)
        return order


def receive_order(order_id: int, lines: Sequence[ReceiptLineIn],
                  user_id: int | None, location_id: int | None = None) -> PurchaseOrder:
    """Receive lines of an order at the location (None: the clinic's first one)."""
    _check_lines(lines)
    today = clock.today()  # before the locks: it may read (or first write) the settings row
    with write_transaction() as session:
        order = _order(session, order_id, lock=True)
        if order.status not in RECEIVABLE_STATUSES:
            raise PurchaseOrderClosed(f"Purchase order {order.id} is {order.status}; "
                                      f"nothing more can be received on it.",
                                      {"status": order.status})
        po_lines = list(session.scalars(
            select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == order.id)
            .order_by(PurchaseOrderLine.id).with_for_update()
            .execution_options(populate_existing=True)))
        items = _items(session, [line.sku for line in lines])
        by_item = {line.item_id: line for line in po_lines}
        stocks = lock_items(session, [item.id for item in items.values()],
                            location_or_default(session, location_id).id)
        for line in lines:
            item = items[line.sku]
            po_line = by_item.get(item.id)
            if po_line is None:
                raise ValidationFailed(f"{line.sku} is not on purchase order {order.id}.",
                                       {"sku": line.sku, "fields": {"lines": "not on the order"}})
            due = still_due(po_line.quantity, po_line.received)
            if line.quantity > due:
                raise ReceiptExceedsOrder(
                    f"{line.sku}: {line.quantity} received but only {due} still due on "
                    f"purchase order {order.id}.",
                    {"sku": line.sku, "quantity": line.quantity, "still_due": due})
            receive_into(session, stocks[item.id], item, quantity=line.quantity,
                         lot_code=line.lot, expires_on=line.expires_on,
                         unit_cost_cents=po_line.unit_cost_cents, user_id=user_id,
                         reference=f"purchase_order:{order.id}", today=today)
            po_line.received += line.quantity
        order.status = status_after_receipt([(pl.quantity, pl.received) for pl in po_lines])
        session.flush()
        _clear_stock_alerts(session, [items[line.sku] for line in lines], stocks, user_id)
        audit.record(session, user_id, "purchase_order.receive", "purchase_order", order.id,
                     lines=[{"sku": line.sku, "quantity": line.quantity, "lot": line.lot}
                            for line in lines], status=order.status)
        return order


def _clear_stock_alerts(session: Session, items: list[Item], stocks: dict[int, Any],
                        user_id: int | None) -> None:
    """The order arrived: an item back above its reorder point has its open low and out of
    stock alerts closed (acknowledged by the receipt), so the alerts desk shows what is
    still short."""
    back = [item.id for item in items if stocks[item.id].on_hand > item.reorder_point]
    if not back:
        return
    now = clock.now()
    for alert in session.scalars(select(Alert).where(
            Alert.item_id.in_(back), Alert.kind.in_(("low_stock", "out_of_stock")),
            Alert.acknowledged_at.is_(None))):
        alert.acknowledged_at = now
        alert.acknowledged_by_id = user_id


def cancel_order(order_id: int, user_id: int | None) -> PurchaseOrder:
    """What is not yet received is no longer on order; what was received stays."""
    with write_transaction() as session:
        order = _order(session, order_id, lock=True)
        if order.status not in CANCELLABLE_STATUSES:
            raise PurchaseOrderClosed(f"Purchase order {order.id} is {order.status}; it "
                                      f"cannot be cancelled.", {"status": order.status})
        order.status = PurchaseOrderStatus.CANCELLED
        order.cancelled_at = clock.now()
        audit.record(session, user_id, "purchase_order.cancel", "purchase_order", order.id)
        return order

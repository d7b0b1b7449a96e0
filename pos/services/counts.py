"""A stock count by the number counted: each lot's difference becomes a `count` movement.

All lines are one transaction: the items' stock rows are locked first (item-id order, as
every stock writer does), each lot's on-hand is read under that lock, and a line off by
more than 5 units and 20 % of what was on hand needs the count's note, or nothing is
written at all.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from pos.domain.errors import NotFound, ValidationFailed
from pos.domain.purchasing import NoteRequired, count_needs_note
from pos.models import Item, Lot, LotStock
from pos.services import audit
from pos.services.ledger import location_or_default, lock_items, post_movement
from pos.services.transaction import write_transaction


@dataclass(frozen=True)
class CountLine:
    sku: str
    lot: str
    counted: int


@dataclass(frozen=True)
class CountedLine:
    sku: str
    lot: str
    on_hand_before: int
    counted: int
    difference: int
    movement_id: int | None


def record_count(lines: Sequence[CountLine], note: str | None,
                 user_id: int | None, location_id: int | None = None) -> list[CountedLine]:
    if not lines:
        raise ValidationFailed("A count needs at least one line.",
                               {"fields": {"lines": "at least one line"}})
    seen = set()
    for line in lines:
        if (line.sku, line.lot) in seen:
            raise ValidationFailed(f"Lot {line.lot} of {line.sku} is counted twice.",
                                   {"fields": {"lines": "a lot counted twice"}})
        seen.add((line.sku, line.lot))
    note = (note or "").strip() or None
    with write_transaction() as session:
        skus = sorted({line.sku for line in lines})
        items = {item.sku: item for item in session.scalars(select(Item).where(
            Item.sku.in_(skus)))}
        unknown = [sku for sku in skus if sku not in items]
        if unknown:
            raise NotFound(f"No item with sku {unknown[0]!r}.", {"sku": unknown[0]})
        location = location_or_default(session, location_id)
        stocks = lock_items(session, [item.id for item in items.values()], location.id)
        out = []
        for line in lines:
            item = items[line.sku]
            lot = session.scalar(select(Lot).where(Lot.item_id == item.id,
                                                   Lot.code == line.lot))
            if lot is None:
                raise NotFound(f"No lot {line.lot} of {line.sku}.",
                               {"sku": line.sku, "lot": line.lot})
            lot_stock = session.scalar(select(LotStock).where(
                LotStock.lot_id == lot.id, LotStock.location_id == location.id)
                .execution_options(populate_existing=True))
            before = lot_stock.on_hand if lot_stock is not None else 0
            difference = line.counted - before
            if note is None and count_needs_note(before, line.counted):
                raise NoteRequired(
                    f"Lot {line.lot} of {line.sku}: counted {line.counted} where "
                    f"{before} were on hand. A difference that large needs a note.",
                    {"sku": line.sku, "lot": line.lot, "on_hand": before,
                     "counted": line.counted, "fields": {"note": "required"}})
            movement_id = None
            if difference:
                movement = post_movement(session, stocks[item.id], lot, difference, "count",
                                         reference="count", user_id=user_id, note=note,
                                         lot_stock=lot_stock)
                movement_id = movement.id
            out.append(CountedLine(line.sku, line.lot, before, line.counted, difference,
                                   movement_id))
        audit.record(session, user_id, "stock.count", "count", None, note=note,
                     lines=[{"sku": c.sku, "lot": c.lot, "on_hand": c.on_hand_before,
                             "counted": c.counted} for c in out])
        return out

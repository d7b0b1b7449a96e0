"""Stock rules: which lots to take (first expiry first out), status, reorder crossings."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pos.domain.errors import InsufficientStock

ADJUSTMENT_REASONS = ("count", "damaged", "expired", "lost", "found", "other")


@dataclass(frozen=True)
class LotOnHand:
    lot_id: int
    expires_on: date | None
    on_hand: int


def is_expired(expires_on: date | None, today: date) -> bool:
    """A lot may be used up to and including its expiry date."""
    return expires_on is not None and expires_on < today


def fefo_order(lots: Iterable[LotOnHand]) -> list[LotOnHand]:
    """Soonest expiry first; lots without an expiry date last; ties by age (lot id)."""
    return sorted(lots, key=lambda lot: (lot.expires_on is None, lot.expires_on or date.max,
                                         lot.lot_id))


def choose_lots(
    lots: Iterable[LotOnHand], quantity: int, today: date, *, sku: str = ""
) -> list[tuple[int, int]]:
    """Which lots to take `quantity` from: [(lot_id, qty)], first expiry first out.

    Never an expired lot; split across lots when one is not enough; InsufficientStock
    (naming the sku and what is usable) when the unexpired lots together are short.
    """
    if quantity < 1:
        raise ValueError("quantity must be positive")
    usable = [lot for lot in fefo_order(lots) if lot.on_hand > 0
              and not is_expired(lot.expires_on, today)]
    taken: list[tuple[int, int]] = []
    remaining = quantity
    for lot in usable:
        qty = min(lot.on_hand, remaining)
        taken.append((lot.lot_id, qty))
        remaining -= qty
        if remaining == 0:
            return taken
    usable_total = sum(lot.on_hand for lot in usable)
    raise InsufficientStock(
        f"Not enough unexpired stock of {sku or 'this item'}: "
        f"{quantity} needed, {usable_total} usable.",
        {"sku": sku, "requested": quantity, "available": usable_total},
    )


StockStatus = Literal["ok", "low", "out"]


def stock_status(available: int, reorder_point: int) -> StockStatus:
    if available <= 0:
        return "out"
    if available <= reorder_point:
        return "low"
    return "ok"


AlertKind = Literal["low_stock", "out_of_stock"]


def reorder_crossing(before: int, after: int, reorder_point: int) -> AlertKind | None:
    """The alert a change of on-hand stock from `before` to `after` raises, if any.

    Only a fall *across* a threshold alerts, so an item already low does not alert again
    until it has risen above its point (re-armed). Reaching zero is `out_of_stock`.
    """
    if after >= before:
        return None
    if after <= 0 < before:
        return "out_of_stock"
    if after <= reorder_point < before:
        return "low_stock"
    return None

"""Moving a lot's stock from one location to another.

Two ledger rows in one transaction, through pos/services/ledger.py: `transfer_out` at
the location it leaves and `transfer_in` where it arrives, each naming the other
location in its reference. Both locations' stock rows of the item are locked first, in
the ledger's lock order; more than the lot holds where it leaves is 409
`insufficient_stock`, and nothing is written. The chain's total never changes.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from pos.domain.errors import InsufficientStock
from pos.domain.locations import TRANSFER_IN, TRANSFER_OUT, check_transfer, transfer_reference
from pos.models import Lot
from pos.services import audit
from pos.services.ledger import lock_item_at, post_movement
from pos.services.locations import get_location
from pos.services.stock import item_by_sku
from pos.services.transaction import write_transaction


@dataclass(frozen=True)
class TransferResult:
    out_movement_id: int
    in_movement_id: int
    from_on_hand: int
    to_on_hand: int


def transfer_stock(*, sku: str, lot_code: str, quantity: int, from_location_id: int,
                   to_location_id: int, user_id: int | None,
                   note: str | None = None) -> TransferResult:
    check_transfer(quantity, from_location_id, to_location_id)
    with write_transaction() as session:
        item = item_by_sku(session, sku)
        source = get_location(session, from_location_id)
        target = get_location(session, to_location_id)
        lot = session.scalar(select(Lot).where(Lot.item_id == item.id, Lot.code == lot_code))
        if lot is None:
            raise InsufficientStock(
                f"There is no lot {lot_code} of {sku} to transfer.",
                {"sku": sku, "lot": lot_code, "requested": quantity, "available": 0})
        stocks = lock_item_at(session, item.id, (source.id, target.id))
        out = post_movement(session, stocks[source.id], lot, -quantity, TRANSFER_OUT,
                            reference=transfer_reference(TRANSFER_OUT, target.id),
                            user_id=user_id, note=note)
        arrived = post_movement(session, stocks[target.id], lot, quantity, TRANSFER_IN,
                                reference=transfer_reference(TRANSFER_IN, source.id),
                                user_id=user_id, note=note)
        audit.record(session, user_id, "stock.transfer", "item", item.sku, lot=lot.code,
                     quantity=quantity, from_location=source.id, to_location=target.id,
                     movement_ids=[out.id, arrived.id])
        return TransferResult(out.id, arrived.id, stocks[source.id].on_hand,
                              stocks[target.id].on_hand)

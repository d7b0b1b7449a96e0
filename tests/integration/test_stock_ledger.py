"""Receiving and adjusting stock: the ledger is the truth and the caches follow it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pos.domain.errors import InsufficientStock, LotExpired
from pos.extensions import db
from pos.models import ItemStock, LotStock, StockMovement
from pos.services import clock, stock
from tests.factories import make_item, receive


def ledger_sum(item_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(StockMovement.qty_delta), 0))
        .where(StockMovement.item_id == item_id))


def cached_on_hand(item_id: int) -> int:
    return db.session.scalar(select(func.sum(ItemStock.on_hand))
                             .where(ItemStock.item_id == item_id))


def lot_cache_sum(item_id: int) -> int:
    return db.session.scalar(select(func.sum(LotStock.on_hand))
                             .where(LotStock.item_id == item_id))


def test_receiving_stock_appends_a_ledger_row_and_raises_on_hand(app):
    item = make_item("CART", kind="supply")
    on_hand = receive("CART", 10, "C-1", clock.today() + timedelta(days=300))
    assert on_hand == 10
    rows = db.session.scalars(select(StockMovement).where(StockMovement.item_id == item.id)).all()
    assert [(r.qty_delta, r.reason, r.lot.code) for r in rows] == [(10, "receipt", "C-1")]


def test_an_already_expired_lot_is_refused_and_nothing_is_written(app):
    item = make_item("LIDO", kind="supply")
    with pytest.raises(LotExpired):
        receive("LIDO", 5, "L-OLD", clock.today() - timedelta(days=1))
    assert ledger_sum(item.id) == 0
    assert cached_on_hand(item.id) == 0


def test_a_lot_expiring_today_can_still_be_received(app):
    make_item("LIDO", kind="supply")
    assert receive("LIDO", 5, "L-TODAY", clock.today()) == 5


def test_an_adjustment_below_zero_is_refused_and_changes_nothing(app):
    item = make_item("MASK", kind="supply", lots=[("G-1", 3, 100)])
    with pytest.raises(InsufficientStock) as error:
        stock.adjust_stock(sku="MASK", lot_code="G-1", qty_delta=-4, reason="damaged",
                           note=None, user_id=None)
    assert error.value.details["sku"] == "MASK"
    assert cached_on_hand(item.id) == 3 == ledger_sum(item.id)


def test_the_caches_equal_the_sum_of_the_ledger_after_many_movements(app):
    item = make_item("HA", kind="supply", lots=[("H-1", 50, 100), ("H-2", 30, 200)])
    for lot, delta, reason in [("H-1", -7, "damaged"), ("H-2", 4, "found"), ("H-1", -43, "count"),
                               ("H-2", -1, "lost"), ("H-2", 2, "other")]:
        stock.adjust_stock(sku="HA", lot_code=lot, qty_delta=delta, reason=reason, note="x",
                           user_id=None)
    assert ledger_sum(item.id) == cached_on_hand(item.id) == lot_cache_sum(item.id) == 35
    lots = stock.item_lots(db.session, item)
    assert [(r.lot.code, r.on_hand) for r in lots] == [("H-2", 35)]


def test_lots_are_listed_soonest_expiry_first(app):
    item = make_item("SERUM", lots=[("LATE", 1, 300), ("SOON", 1, 10), ("NOEXP", 1, None),
                                    ("MID", 1, 100)])
    assert [r.lot.code for r in stock.item_lots(db.session, item)] == \
        ["SOON", "MID", "LATE", "NOEXP"]


def test_the_database_itself_refuses_a_negative_on_hand(app):
    item = make_item("CART", kind="supply", lots=[("C-1", 1, 100)])
    row = db.session.scalar(select(ItemStock).where(ItemStock.item_id == item.id))
    row.on_hand = -1
    with pytest.raises(Exception, match="(?i)check"):
        db.session.flush()
    db.session.rollback()

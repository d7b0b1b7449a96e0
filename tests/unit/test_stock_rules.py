"""The stock rules as values: first expiry first out, status, reorder crossings."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.domain.errors import InsufficientStock
from pos.domain.stock import (
    LotOnHand,
    choose_lots,
    fefo_order,
    is_expired,
    reorder_crossing,
    stock_status,
)

TODAY = date(2026, 6, 15)


def lot(lot_id: int, days: int | None, on_hand: int) -> LotOnHand:
    return LotOnHand(lot_id, None if days is None else TODAY + timedelta(days), on_hand)


# choose_lots

def test_takes_from_the_lot_that_expires_first():
    lots = [lot(1, 300, 10), lot(2, 30, 10), lot(3, 100, 10)]
    assert choose_lots(lots, 4, TODAY) == [(2, 4)]


def test_never_takes_from_an_expired_lot_even_when_it_expires_soonest():
    lots = [lot(1, -1, 50), lot(2, 60, 5)]
    assert choose_lots(lots, 5, TODAY) == [(2, 5)]


def test_a_lot_expiring_today_is_still_usable_and_goes_first():
    lots = [lot(1, 10, 5), lot(2, 0, 3)]
    assert choose_lots(lots, 4, TODAY) == [(2, 3), (1, 1)]


def test_splits_across_lots_when_one_is_not_enough():
    lots = [lot(1, 10, 2), lot(2, 20, 2), lot(3, 30, 10)]
    assert choose_lots(lots, 7, TODAY) == [(1, 2), (2, 2), (3, 3)]


def test_takes_a_whole_lot_exactly_without_touching_the_next():
    assert choose_lots([lot(1, 10, 3), lot(2, 20, 3)], 3, TODAY) == [(1, 3)]


def test_lots_without_an_expiry_date_are_used_last():
    lots = [lot(1, None, 100), lot(2, 500, 1)]
    assert choose_lots(lots, 3, TODAY) == [(2, 1), (1, 2)]


def test_empty_lots_are_skipped():
    assert choose_lots([lot(1, 5, 0), lot(2, 9, 4)], 2, TODAY) == [(2, 2)]


def test_lots_with_the_same_expiry_go_oldest_first():
    assert choose_lots([lot(7, 30, 5), lot(3, 30, 5)], 6, TODAY) == [(3, 5), (7, 1)]


def test_not_enough_unexpired_stock_names_the_sku_and_what_is_usable():
    lots = [lot(1, -3, 100), lot(2, 10, 2), lot(3, 20, 1)]
    with pytest.raises(InsufficientStock) as error:
        choose_lots(lots, 4, TODAY, sku="LIDO-23")
    assert error.value.code == "insufficient_stock"
    assert error.value.details == {"sku": "LIDO-23", "requested": 4, "available": 3}
    assert "LIDO-23" in error.value.message and "3 usable" in error.value.message


def test_no_lots_at_all_is_insufficient_stock():
    with pytest.raises(InsufficientStock) as error:
        choose_lots([], 1, TODAY, sku="CART-36")
    assert error.value.details["available"] == 0


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_quantity_below_one_is_a_programming_error(quantity):
    with pytest.raises(ValueError):
        choose_lots([lot(1, 10, 5)], quantity, TODAY)


def test_is_expired_only_after_the_expiry_date():
    assert not is_expired(TODAY, TODAY)
    assert is_expired(TODAY - timedelta(days=1), TODAY)
    assert not is_expired(None, TODAY)


def test_fefo_order_puts_soonest_first_and_no_expiry_last():
    ordered = fefo_order([lot(1, None, 1), lot(2, 5, 1), lot(3, -2, 1), lot(4, 50, 1)])
    assert [x.lot_id for x in ordered] == [3, 2, 4, 1]


lots_strategy = st.lists(
    st.builds(LotOnHand, st.integers(1, 10_000),
              st.one_of(st.none(), st.dates(TODAY - timedelta(days=60),
                                            TODAY + timedelta(days=400))),
              st.integers(0, 50)),
    max_size=8, unique_by=lambda x: x.lot_id,
)


@given(lots=lots_strategy, quantity=st.integers(1, 300))
def test_choose_lots_takes_exactly_the_quantity_from_unexpired_lots_within_what_each_has(
        lots, quantity):
    by_id = {x.lot_id: x for x in lots}
    usable = sum(x.on_hand for x in lots if not is_expired(x.expires_on, TODAY))
    try:
        plan = choose_lots(lots, quantity, TODAY)
    except InsufficientStock as error:
        assert usable < quantity
        assert error.details["available"] == usable
        return
    assert sum(qty for _, qty in plan) == quantity
    assert len({lot_id for lot_id, _ in plan}) == len(plan)
    for lot_id, qty in plan:
        assert 0 < qty <= by_id[lot_id].on_hand
        assert not is_expired(by_id[lot_id].expires_on, TODAY)


@given(lots=lots_strategy, quantity=st.integers(1, 300))
def test_choose_lots_only_opens_a_later_lot_once_the_earlier_ones_are_empty(lots, quantity):
    try:
        plan = choose_lots(lots, quantity, TODAY)
    except InsufficientStock:
        return
    by_id = {x.lot_id: x for x in lots}
    # Every lot but the last one taken is emptied.
    for lot_id, qty in plan[:-1]:
        assert qty == by_id[lot_id].on_hand
    # No usable lot that expires before the last one taken is left untouched.
    taken = {lot_id for lot_id, _ in plan}
    last = by_id[plan[-1][0]]
    last_key = (last.expires_on is None, last.expires_on or date.max, last.lot_id)
    for x in lots:
        key = (x.expires_on is None, x.expires_on or date.max, x.lot_id)
        if x.on_hand > 0 and not is_expired(x.expires_on, TODAY) and key < last_key:
            assert x.lot_id in taken


# stock_status

@pytest.mark.parametrize(("available", "point", "status"), [
    (50, 10, "ok"), (11, 10, "ok"), (10, 10, "low"), (1, 10, "low"), (0, 10, "out"),
    (0, 0, "out"), (1, 0, "ok"), (-2, 5, "out"),
])
def test_stock_status(available, point, status):
    assert stock_status(available, point) == status


# reorder_crossing

@pytest.mark.parametrize(("before", "after", "point", "alert"), [
    (12, 10, 10, "low_stock"),      # falls onto the point
    (12, 3, 10, "low_stock"),       # falls through it
    (11, 11, 10, None),             # no change
    (30, 11, 10, None),             # falls but stays above
    (9, 5, 10, None),               # already low: no second alert until re-armed
    (5, 12, 10, None),              # rises above: re-armed, no alert for a rise
    (12, 10, 10, "low_stock"),      # ...and the next fall alerts again
    (3, 0, 10, "out_of_stock"),     # already low, reaches zero: out
    (40, 0, 10, "out_of_stock"),    # straight from ok to zero: out, not low
    (0, 0, 10, None),               # stays out
    (1, 0, 0, "out_of_stock"),      # reorder point 0 still tells when it runs out
    (0, -1, 10, None),
])
def test_reorder_crossing(before, after, point, alert):
    assert reorder_crossing(before, after, point) == alert


def test_an_item_that_is_refilled_then_falls_again_alerts_again():
    point = 10
    levels = [20, 10, 4, 25, 9]
    alerts = [reorder_crossing(a, b, point) for a, b in zip(levels, levels[1:], strict=False)]
    assert alerts == ["low_stock", None, None, "low_stock"]


@given(st.integers(-5, 100), st.integers(-5, 100), st.integers(0, 50))
def test_a_rise_never_alerts_and_a_fall_to_zero_from_stock_always_does(before, after, point):
    result = reorder_crossing(before, after, point)
    if after >= before:
        assert result is None
    elif after <= 0 < before:
        assert result == "out_of_stock"
    elif result == "low_stock":
        assert after <= point < before

"""Days of cover, reorder suggestions and delivery backoff, as functions of figures."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pos.domain.reorder import (
    ExpectedUse,
    ReorderBasis,
    days_of_cover,
    days_of_cover_from,
    expected_use,
    falls_to_reorder_point_within_lead_time,
    order_for_expected_use,
    retry_delay_seconds,
    suggested_order_quantity,
)


def test_days_of_cover_is_available_stock_at_the_last_30_days_rate():
    assert days_of_cover(available=10, used_in_window=30) == 10
    assert days_of_cover(available=10, used_in_window=7) == 42  # 42.86 days, whole days
    assert days_of_cover(available=0, used_in_window=5) == 0


def test_nothing_used_means_no_days_of_cover_figure():
    assert days_of_cover(available=10, used_in_window=0) is None


def test_the_suggestion_is_the_reorder_quantity_unless_use_needs_more():
    assert suggested_order_quantity(12, available=10, used_in_window=30, cover_days=30) == 20
    assert suggested_order_quantity(50, available=10, used_in_window=30, cover_days=30) == 50
    assert suggested_order_quantity(0, available=0, used_in_window=1, cover_days=30) == 1
    assert suggested_order_quantity(5, available=3, used_in_window=0, cover_days=30) == 5


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000),
       st.integers(1, 365))
def test_ordering_the_suggestion_always_covers_the_target_days(reorder_qty, available, used,
                                                               cover_days):
    suggested = suggested_order_quantity(reorder_qty, available, used, cover_days)
    assert suggested >= reorder_qty
    assert (available + suggested) * 30 >= used * cover_days


def test_retries_back_off_from_30_seconds_doubling_to_an_hour():
    assert [retry_delay_seconds(n) for n in range(9)] == \
        [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert retry_delay_seconds(10_000) == 3600


# -- days of cover from bookings (issue 16, part 6) -------------------------------------------

def test_expected_use_is_the_faster_of_the_last_30_days_and_the_expected_treatments():
    # 10 treatments of 1 cartridge in 14 days, over 30 days: 21.4 -> 22 (never a unit short)
    assert expected_use(used_in_window=6, booked_use=10, horizon_days=30) == \
        ExpectedUse(22, ReorderBasis.BOOKINGS)
    assert expected_use(used_in_window=60, booked_use=10, horizon_days=30) == \
        ExpectedUse(60, ReorderBasis.USAGE)
    # a tie stays "usage": an item without bookings keeps its old figure and basis
    assert expected_use(used_in_window=30, booked_use=14, horizon_days=30) == \
        ExpectedUse(30, ReorderBasis.USAGE)
    assert expected_use(used_in_window=0, booked_use=0, horizon_days=30) == \
        ExpectedUse(0, ReorderBasis.USAGE)
    assert expected_use(used_in_window=3, booked_use=7, horizon_days=7) == \
        ExpectedUse(4, ReorderBasis.BOOKINGS)  # 3 x 7/30 -> 1; 7 x 7/14 -> 4 (3.5 up)


def test_the_order_covers_the_expected_use_beyond_what_is_on_hand():
    assert order_for_expected_use(reorder_quantity=5, on_hand=10, expected=22) == 12
    assert order_for_expected_use(reorder_quantity=20, on_hand=10, expected=22) == 20
    assert order_for_expected_use(reorder_quantity=0, on_hand=30, expected=22) == 0
    assert order_for_expected_use(reorder_quantity=0, on_hand=-2, expected=3) == 3


def test_days_of_cover_use_the_faster_rate():
    assert days_of_cover_from(on_hand=10, used_in_window=15, booked_use=14) == 10  # 20 vs 10
    assert days_of_cover_from(on_hand=10, used_in_window=30, booked_use=0) == 10
    assert days_of_cover_from(on_hand=10, used_in_window=0, booked_use=7) == 20
    assert days_of_cover_from(on_hand=10, used_in_window=0, booked_use=0) is None


def test_bookings_bring_an_item_forward_when_they_take_it_to_its_point_in_the_lead_time():
    # 20 on hand, reorder point 5, 10 booked in 14 days: in 14 days 10 go (20 -> 10), not yet
    assert not falls_to_reorder_point_within_lead_time(20, 0, 5, 0, 10, lead_time_days=14)
    # in 21 days 15 go (10 x 21/14): 20 -> 5, at the point
    assert falls_to_reorder_point_within_lead_time(20, 0, 5, 0, 10, lead_time_days=21)
    # one unit already on order arrives in the lead time: 21 -> 6, still above
    assert not falls_to_reorder_point_within_lead_time(20, 1, 5, 0, 10, lead_time_days=21)
    # the usage rate counts too, once there are bookings: 30 used in 30 days -> 21 in 21
    assert falls_to_reorder_point_within_lead_time(25, 0, 5, 30, 1, lead_time_days=21)
    # without bookings nothing changes: an item is listed at its reorder point, as before
    assert not falls_to_reorder_point_within_lead_time(25, 0, 5, 300, 0, lead_time_days=21)


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000),
       st.integers(1, 365))
def test_without_bookings_the_suggestion_is_the_one_of_before(reorder_qty, on_hand, used,
                                                              cover_days):
    use = expected_use(used, 0, cover_days)
    assert use.basis == ReorderBasis.USAGE
    assert order_for_expected_use(reorder_qty, on_hand, use.quantity) == \
        suggested_order_quantity(reorder_qty, on_hand, used, cover_days)
    assert days_of_cover_from(on_hand, used, 0) == days_of_cover(on_hand, used)


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000),
       st.integers(0, 10_000), st.integers(1, 365))
def test_the_suggestion_covers_both_rates(reorder_qty, on_hand, used, booked, cover_days):
    use = expected_use(used, booked, cover_days)
    ordered = order_for_expected_use(reorder_qty, on_hand, use.quantity)
    assert (on_hand + ordered) * 30 >= used * cover_days
    assert (on_hand + ordered) * 14 >= booked * cover_days

"""Days of cover, reorder suggestions and delivery backoff, as functions of figures."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pos.domain.reorder import days_of_cover, retry_delay_seconds, suggested_order_quantity


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

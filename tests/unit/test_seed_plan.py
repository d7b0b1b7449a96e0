"""The demo year's plan (pos/seed/plan.py): pure, so checked on many "todays" at once."""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos.models.types import utcnow
from pos.seed.catalog import (
    BUNDLE_SKU,
    MAX_DAYS_BETWEEN,
    MIN_DAYS_BETWEEN,
    REORDER,
    SESSION_SUPPLIES,
)
from pos.seed.plan import (
    LATE_SKU,
    LATE_SKU_END_BELOW_POINT,
    Plan,
    Receive,
    Refund,
    Sell,
    Treat,
    WriteOff,
    is_open,
    plan_history,
)
from pos.services import clock

todays = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


def _end_levels(plan: Plan) -> dict[str, int]:
    level: dict[str, int] = defaultdict(int)
    treated: set[int] = set()
    for event in plan.events:
        if isinstance(event, Receive):
            level[event.sku] += event.quantity
        elif isinstance(event, WriteOff):
            level[event.sku] -= event.quantity
        elif isinstance(event, Sell):
            for line in event.lines:
                if line.sku is not None:
                    level[line.sku] -= line.quantity
        elif isinstance(event, Treat):
            for sku, quantity in SESSION_SUPPLIES:
                level[sku] -= quantity
            if event.client not in treated:
                treated.add(event.client)
                level[BUNDLE_SKU] -= 1
    return level


def test_the_same_day_always_plans_the_same_year():
    assert plan_history(date(2026, 11, 29)).events == plan_history(date(2026, 11, 29)).events
    assert plan_history(date(2026, 11, 29)).events != plan_history(date(2026, 11, 30)).events


@settings(max_examples=15, deadline=None)
@given(todays)
def test_the_year_ends_yesterday_happens_on_open_days_and_has_sales_every_month(today):
    plan = plan_history(today)  # runs its own stock simulation: short stock would raise
    assert plan.first_day == date(today.year - 1, today.month, 1)
    assert plan.last_day == today - timedelta(days=1)
    assert all(plan.first_day <= e.at.date() <= plan.last_day and is_open(e.at.date())
               for e in plan.events)
    assert [e.at for e in plan.events] == sorted(e.at for e in plan.events)
    months = {(e.at.year, e.at.month) for e in plan.events if isinstance(e, Sell)}
    year, month = today.year - 1, today.month
    for _ in range(12):
        assert (year, month) in months
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@settings(max_examples=15, deadline=None)
@given(todays)
def test_series_keep_their_rhythm_and_refunded_series_are_never_used(today):
    plan = plan_history(today)
    sessions: dict[int, list[date]] = defaultdict(list)
    for event in plan.events:
        if isinstance(event, Treat):
            sessions[event.sale].append(event.at.date())
    for days in sessions.values():
        for earlier, later in zip(days, days[1:], strict=False):
            assert MIN_DAYS_BETWEEN <= (later - earlier).days <= MAX_DAYS_BETWEEN
    sold_at = {e.sale: e.at for e in plan.events if isinstance(e, Sell)}
    refunds = [e for e in plan.events if isinstance(e, Refund)]
    assert len(refunds) >= 3
    for refund in refunds:
        assert refund.at > sold_at[refund.sale]
        if refund.line.package_code is not None:
            assert refund.sale not in sessions


@settings(max_examples=15, deadline=None)
@given(todays)
def test_the_masks_end_below_their_reorder_point_and_everything_else_above(today):
    levels = _end_levels(plan_history(today))
    point = REORDER[LATE_SKU][0]
    assert levels[LATE_SKU] == point - LATE_SKU_END_BELOW_POINT > 0
    assert all(levels[sku] > REORDER[sku][0] for sku in REORDER if sku != LATE_SKU)


def test_travel_to_sets_the_clock_and_the_column_defaults_then_gives_real_time_back():
    then = datetime(2025, 3, 4, 15, 30, tzinfo=UTC)
    with clock.travel_to(then):
        assert clock.now() == then == utcnow()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)
    with pytest.raises(ValueError), clock.travel_to(datetime(2025, 3, 4, 15, 30)):
        pass


@settings(max_examples=10, deadline=None)
@given(todays)
def test_spring_and_december_sell_more_per_open_day_than_winter_and_summer(today):
    plan = plan_history(today)
    peak, trough = {3, 4, 5, 12}, {1, 2, 7, 8}
    sales: dict[bool, int] = defaultdict(int)
    days: dict[bool, int] = defaultdict(int)
    for event in plan.events:
        if isinstance(event, Sell) and event.at.month in peak | trough:
            sales[event.at.month in peak] += 1
    day = plan.first_day
    while day <= plan.last_day:
        if is_open(day) and day.month in peak | trough:
            days[day.month in peak] += 1
        day += timedelta(days=1)
    assert sales[True] / days[True] > 1.3 * sales[False] / days[False]

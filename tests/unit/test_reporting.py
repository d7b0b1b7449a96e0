"""Clinic months, the session-value rule, changes and chart geometry, without a database."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.domain.errors import ValidationFailed
from pos.domain.reporting import (
    Month,
    change_bp,
    day_starts_utc,
    month_bounds,
    parse_month,
    session_value,
    sessions_value,
)
from pos.web.reports.charts import column_chart, shares

NEW_YORK = ZoneInfo("America/New_York")


def test_a_new_york_month_starts_at_local_midnight_in_utc():
    assert month_bounds(2026, 1, NEW_YORK) == (datetime(2026, 1, 1, 5, tzinfo=UTC),
                                               datetime(2026, 2, 1, 5, tzinfo=UTC))


def test_a_month_across_the_daylight_saving_change_has_bounds_of_different_offsets():
    start, end = month_bounds(2026, 3, NEW_YORK)
    assert (start.hour, end.hour) == (5, 4)
    days = day_starts_utc(Month(2026, 3), NEW_YORK)
    assert len(days) == 31 and (days[8] - days[7]).total_seconds() == 23 * 3600


def test_december_runs_into_january_of_the_next_year():
    assert month_bounds(2025, 12, NEW_YORK)[1] == datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert Month(2026, 1).previous == Month(2025, 12)
    assert Month(2026, 3).same_month_last_year == Month(2025, 3)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-3", "26-03", "", None, 202603,
                                  "2026-03\n", "1999-12", "٢٠٢٦-٠٣"])
def test_anything_but_yyyy_mm_is_refused(text):
    with pytest.raises(ValidationFailed):
        parse_month(text)


@given(st.integers(0, 10**9), st.integers(1, 12))
def test_the_sessions_of_a_purchase_add_up_to_its_value_exactly(value, total):
    parts = [session_value(value, total, k) for k in range(1, total + 1)]
    assert sum(parts) == value
    assert max(parts) - min(parts) <= 1
    assert all(sessions_value(value, total, n) == sum(parts[:n]) for n in range(total + 1))


def test_changes_are_in_basis_points_and_undefined_from_zero():
    assert change_bp(11250, 10000) == 1250
    assert change_bp(5000, 10000) == -5000
    assert change_bp(5, 0) is None


def test_the_day_chart_hangs_negative_days_below_the_zero_line():
    chart = column_chart([("1", 100), ("2", -50), ("3", 0)])
    up, down, flat = chart.bars
    assert up.y + up.height == chart.zero_y == down.y
    assert down.height * 2 == up.height or abs(down.height * 2 - up.height) <= 1
    assert flat.height == 0


@given(st.lists(st.integers(-1000, 10**7), min_size=1, max_size=8))
def test_a_mix_fills_its_bar_exactly_when_anything_was_sold(values):
    parts = shares([(str(i), v) for i, v in enumerate(values)], width=600)
    if any(v > 0 for v in values):
        assert sum(p.width for p in parts) == 600
        assert parts[0].x == 0
    assert all(p.width >= 0 and p.bar_width >= 0 for p in parts)

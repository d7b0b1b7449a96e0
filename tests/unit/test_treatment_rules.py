"""Where a series stands, and the same-day void window: pure rules, no database."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.domain.treatments import VoidWindowPassed, check_void_window, series_progress

DAY0 = date(2026, 3, 2)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def test_a_series_not_started_may_begin_any_day_with_no_warning() -> None:
    progress = series_progress([], 3, DAY0, 28, 42)
    assert progress.sessions_left == 3
    assert progress.next_eligible_on is None
    assert progress.eligible_today is True
    assert progress.warnings == ()
    assert progress.off_rhythm is False


def test_the_next_session_is_eligible_28_days_after_the_last() -> None:
    progress = series_progress([day(0)], 2, day(27), 28, 42)
    assert progress.next_eligible_on == day(28)
    assert progress.eligible_today is False
    assert series_progress([day(0)], 2, day(28), 28, 42).eligible_today is True


def test_dates_in_any_order_count_from_the_latest() -> None:
    progress = series_progress([day(30), day(0)], 1, day(40), 28, 42)
    assert progress.next_eligible_on == day(58)


def test_a_gap_longer_than_recommended_is_a_warning() -> None:
    progress = series_progress([day(0), day(43)], 1, day(50), 28, 42)
    assert progress.off_rhythm is True
    assert progress.warnings == ("Session 2 came 43 days after the previous one "
                                 "(recommended at most 42).",)


def test_a_gap_of_exactly_the_maximum_is_on_rhythm() -> None:
    assert series_progress([day(0), day(42)], 1, day(50), 28, 42).warnings == ()


def test_an_overdue_next_session_is_a_warning_from_day_43() -> None:
    assert series_progress([day(0)], 2, day(42), 28, 42).warnings == ()
    overdue = series_progress([day(0)], 2, day(43), 28, 42)
    assert overdue.off_rhythm is True
    assert "overdue" in overdue.warnings[0]
    assert day(42).isoformat() in overdue.warnings[0]


def test_a_finished_series_has_no_next_date_and_is_never_overdue() -> None:
    progress = series_progress([day(0), day(30), day(60)], 0, day(400), 28, 42)
    assert progress.next_eligible_on is None
    assert progress.eligible_today is False
    assert progress.warnings == ()


def test_a_package_without_a_maximum_is_never_off_rhythm() -> None:
    progress = series_progress([day(0), day(300)], 1, day(900), 28, None)
    assert progress.warnings == ()
    assert progress.next_eligible_on == day(328)


@given(st.lists(st.integers(min_value=0, max_value=2000), max_size=6),
       st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=3000))
def test_the_next_eligible_day_is_never_before_the_minimum_spacing(
        offsets: list[int], left: int, today: int) -> None:
    progress = series_progress([day(n) for n in offsets], left, day(today), 28, 42)
    if progress.next_eligible_on is not None:
        assert progress.next_eligible_on == day(max(offsets)) + timedelta(days=28)
        assert progress.eligible_today == (day(today) >= progress.next_eligible_on)
    assert progress.off_rhythm == bool(progress.warnings)


def test_a_treatment_may_be_voided_on_the_day_it_was_recorded() -> None:
    check_void_window(DAY0, DAY0, provider_manager=False)
    check_void_window(DAY0, DAY0, provider_manager=True)


@pytest.mark.parametrize("today", [day(1), day(30)])
def test_a_provider_manager_may_void_on_a_later_day(today: date) -> None:
    check_void_window(DAY0, today, provider_manager=True)


@pytest.mark.parametrize("today", [day(1), day(30), day(-1)])
def test_a_provider_alone_may_not_void_on_another_day(today: date) -> None:
    with pytest.raises(VoidWindowPassed) as error:
        check_void_window(DAY0, today, provider_manager=False)
    assert error.value.code == "void_window_passed"
    assert error.value.status == 422
    assert error.value.details == {"recorded_on": DAY0.isoformat()}

"""Series rhythm: sessions at least 28 days apart, off-rhythm past 42, never beyond what was paid."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.domain.errors import PosError
from pos.domain.series import (
    MAX_DAYS_DEFAULT,
    MIN_DAYS_DEFAULT,
    NoSessionsLeft,
    Spacing,
    TooSoon,
    check_sessions_left,
    check_spacing,
    next_eligible_on,
    session_shares,
    value_of_refunded_sessions,
)

LAST = date(2026, 2, 1)


def day(n: int) -> date:
    """The date n days after the last session."""
    return LAST + timedelta(days=n)


def test_the_defaults_are_four_to_six_weeks() -> None:
    assert (MIN_DAYS_DEFAULT, MAX_DAYS_DEFAULT) == (28, 42)


def test_errors_carry_their_api_codes_and_statuses() -> None:
    assert issubclass(TooSoon, PosError) and issubclass(NoSessionsLeft, PosError)
    assert (TooSoon.code, TooSoon.status) == ("too_soon", 422)
    assert (NoSessionsLeft.code, NoSessionsLeft.status) == ("no_sessions_left", 409)


def test_next_eligible_on_is_min_days_after_the_last_session() -> None:
    assert next_eligible_on(LAST, 28) == date(2026, 3, 1)


def test_next_eligible_on_is_none_without_a_previous_session() -> None:
    assert next_eligible_on(None, 28) is None


def test_day_27_is_refused_with_day_28_as_eligible_on() -> None:
    with pytest.raises(TooSoon) as exc:
        check_spacing(LAST, day(27), MIN_DAYS_DEFAULT, MAX_DAYS_DEFAULT)
    assert exc.value.details == {"eligible_on": day(28).isoformat()}
    assert exc.value.details == {"eligible_on": "2026-03-01"}


def test_the_same_day_as_the_last_session_is_refused() -> None:
    with pytest.raises(TooSoon):
        check_spacing(LAST, LAST, MIN_DAYS_DEFAULT, MAX_DAYS_DEFAULT)


def test_day_28_is_accepted_on_rhythm() -> None:
    assert check_spacing(LAST, day(28), MIN_DAYS_DEFAULT, MAX_DAYS_DEFAULT) == Spacing(
        off_rhythm=False, days_since_last=28
    )


def test_day_42_is_still_on_rhythm() -> None:
    assert check_spacing(LAST, day(42), MIN_DAYS_DEFAULT, MAX_DAYS_DEFAULT) == Spacing(
        off_rhythm=False, days_since_last=42
    )


def test_day_43_is_accepted_but_off_rhythm() -> None:
    assert check_spacing(LAST, day(43), MIN_DAYS_DEFAULT, MAX_DAYS_DEFAULT) == Spacing(
        off_rhythm=True, days_since_last=43
    )


def test_without_a_maximum_a_late_session_is_never_off_rhythm() -> None:
    assert check_spacing(LAST, day(400), MIN_DAYS_DEFAULT, None) == Spacing(False, 400)


def test_the_first_session_of_a_series_is_always_allowed() -> None:
    assert check_spacing(None, LAST, MIN_DAYS_DEFAULT, MAX_DAYS_DEFAULT) == Spacing(False, None)


def test_a_package_can_set_its_own_minimum() -> None:
    with pytest.raises(TooSoon) as exc:
        check_spacing(LAST, day(13), 14, None)
    assert exc.value.details == {"eligible_on": "2026-02-15"}
    assert check_spacing(LAST, day(14), 14, None) == Spacing(False, 14)


@pytest.mark.parametrize(("min_days", "max_days"), [(-1, None), (28, 27)])
def test_an_inconsistent_spacing_configuration_is_a_programming_error(
    min_days: int, max_days: int | None
) -> None:
    with pytest.raises(ValueError):
        check_spacing(LAST, day(30), min_days, max_days)


def test_spacing_counts_calendar_days_across_a_month_end() -> None:
    last = date(2026, 1, 31)
    with pytest.raises(TooSoon) as exc:
        check_spacing(last, date(2026, 2, 27), 28, 42)
    assert exc.value.details == {"eligible_on": "2026-02-28"}


@pytest.mark.parametrize(("total", "used", "left"), [(3, 0, 3), (3, 2, 1), (1, 0, 1)])
def test_sessions_left_are_returned_while_some_remain(total: int, used: int, left: int) -> None:
    assert check_sessions_left(total, used) == left


@pytest.mark.parametrize(("total", "used"), [(3, 3), (1, 1), (3, 4), (0, 0)])
def test_a_package_with_no_sessions_left_is_refused(total: int, used: int) -> None:
    with pytest.raises(NoSessionsLeft) as exc:
        check_sessions_left(total, used)
    assert exc.value.status == 409
    assert exc.value.details == {"sessions_total": total, "sessions_used": used}


@given(
    last=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    gap=st.integers(min_value=-30, max_value=400),
    min_days=st.integers(min_value=0, max_value=90),
    extra=st.none() | st.integers(min_value=0, max_value=90),
)
def test_a_session_is_allowed_exactly_from_next_eligible_on(
    last: date, gap: int, min_days: int, extra: int | None
) -> None:
    today = last + timedelta(days=gap)
    max_days = None if extra is None else min_days + extra
    eligible = next_eligible_on(last, min_days)
    assert eligible is not None
    if today < eligible:
        with pytest.raises(TooSoon) as exc:
            check_spacing(last, today, min_days, max_days)
        assert exc.value.details == {"eligible_on": eligible.isoformat()}
    else:
        spacing = check_spacing(last, today, min_days, max_days)
        assert spacing.days_since_last == gap
        assert spacing.off_rhythm == (max_days is not None and gap > max_days)


# -- refunding unused sessions ----------------------------------------------------------------

def test_three_sessions_of_100_dollars_are_worth_33_33_33_33_and_33_34():
    assert session_shares(10_000, 3) == [3333, 3333, 3334]


def test_refunding_two_of_three_with_one_used_gives_back_the_last_two_shares():
    assert value_of_refunded_sessions(10_000, 3, refunded_before=0, count=2) == 3333 + 3334


def test_refunding_every_session_one_by_one_gives_back_exactly_the_value():
    refunded = [value_of_refunded_sessions(10_000, 3, before, 1) for before in range(3)]
    assert refunded == [3334, 3333, 3333]
    assert sum(refunded) == 10_000


@given(value=st.integers(0, 10_000_000), total=st.integers(1, 12), data=st.data())
def test_sessions_performed_and_refunded_in_any_split_add_up_to_the_value(value, total, data):
    used = data.draw(st.integers(0, total))
    steps = data.draw(st.lists(st.integers(1, 3), max_size=total))
    refunded, given_back = 0, 0
    for step in steps:
        step = min(step, total - used - refunded)
        given_back += value_of_refunded_sessions(value, total, refunded, step)
        refunded += step
    # The liability's value of the first `used` sessions performed, plus what was given
    # back, plus the sessions still to come: the purchase's value, to the cent.
    performed = value * used // total
    still_owed = sum(session_shares(value, total)[used:total - refunded])
    assert performed + given_back + still_owed == value
    assert sum(session_shares(value, total)) == value


def test_more_sessions_than_the_purchase_holds_cannot_be_valued():
    with pytest.raises(ValueError):
        value_of_refunded_sessions(10_000, 3, refunded_before=2, count=2)

"""Money rules: parsing dollars text, showing cents, splitting cents, percentages."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.domain.money import (
    MAX_CENTS,
    InvalidAmount,
    allocate,
    dollars_text,
    format_cents,
    parse_cents,
    percent_of,
    percent_text,
)

# parse_cents


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12", 1200),
        ("12.5", 1250),
        ("12.50", 1250),
        ("12.05", 1205),
        ("0", 0),
        ("0.01", 1),
        (".50", 50),
        ("$12", 1200),
        ("$1,234.56", 123456),
        ("1,234.56", 123456),
        ("1,234,567", 123456700),
        ("  $7.25 ", 725),
        ("007.10", 710),
        ("100000000", MAX_CENTS),
        ("$100,000,000.00", MAX_CENTS),
    ],
)
def test_dollars_text_is_read_as_exact_cents(text: str, cents: int) -> None:
    assert parse_cents(text) == cents


def test_an_amount_with_more_than_two_decimals_is_refused() -> None:
    with pytest.raises(InvalidAmount, match="more than two decimals"):
        parse_cents("12.999")


def test_a_third_decimal_is_refused_even_when_it_is_zero() -> None:
    with pytest.raises(InvalidAmount, match="more than two decimals"):
        parse_cents("12.990")


@pytest.mark.parametrize("text", ["-5", "-5.00", "$-5", "-$5.00", "(5.00)", "\u22125"])
def test_a_negative_amount_is_refused(text: str) -> None:
    with pytest.raises(InvalidAmount, match="negative"):
        parse_cents(text)


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_amount_is_refused(text: str) -> None:
    with pytest.raises(InvalidAmount, match="required"):
        parse_cents(text)


@pytest.mark.parametrize(
    "text",
    [
        "NaN", "nan", "sNaN", "inf", "Infinity", "-inf", "1e3", "1E3", "12.5e1", "0x10",
        "12.", ".", "$", "12,34", "1,2345", "1,,234", "12.3.4", "12 34", "+5", "12USD",
        "$$5", "\u0661\u0662", "\uff11\uff12", "5\n6", "twelve",
    ],
)
def test_anything_but_plain_dollars_is_refused(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_cents(text)


def test_a_trillion_dollars_in_cents_is_refused_as_too_large() -> None:
    with pytest.raises(InvalidAmount, match="largest amount"):
        parse_cents(str(10**12))


def test_one_cent_above_the_maximum_is_refused() -> None:
    with pytest.raises(InvalidAmount):
        parse_cents("100000000.01")


def test_a_very_long_amount_is_refused_without_reading_it_all() -> None:
    with pytest.raises(InvalidAmount):
        parse_cents("9" * 10_000)


def test_something_other_than_text_is_refused_as_an_invalid_amount() -> None:
    with pytest.raises(InvalidAmount):
        parse_cents(12)  # type: ignore[arg-type]


def test_an_invalid_amount_maps_to_a_validation_error() -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_cents("abc")
    assert refused.value.code == "validation_error"
    assert refused.value.status == 422
    assert refused.value.details == {"value": "abc"}


@given(st.integers(min_value=0, max_value=MAX_CENTS))
def test_formatted_cents_without_the_sign_parse_back_to_the_same_cents(cents: int) -> None:
    assert parse_cents(format_cents(cents)) == cents


@given(st.integers(min_value=0, max_value=MAX_CENTS))
def test_plain_decimal_text_parses_to_the_same_cents(cents: int) -> None:
    dollars, rest = divmod(cents, 100)
    assert parse_cents(f"{dollars}.{rest:02d}") == cents


# format_cents


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "$0.00"),
        (1, "$0.01"),
        (99, "$0.99"),
        (500, "$5.00"),
        (123456, "$1,234.56"),
        (100_000_000_00, "$100,000,000.00"),
        (-500, "-$5.00"),
        (-1, "-$0.01"),
    ],
)
def test_cents_are_shown_as_dollars(cents: int, text: str) -> None:
    assert format_cents(cents) == text


def test_the_currency_code_may_be_given_in_capitals() -> None:
    assert format_cents(123456, "USD") == "$1,234.56"


def test_other_currencies_are_shown_with_their_code_after_the_amount() -> None:
    assert format_cents(123456, "eur") == "1,234.56 EUR"
    assert format_cents(-500, "cad") == "-5.00 CAD"


# allocate


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (100, [1, 1], [50, 50]),
        (10, [1, 2, 3, 4], [1, 2, 3, 4]),
        (5, [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]),
        (100, [0, 1, 0], [0, 100, 0]),
        (1, [0, 3, 0, 3], [0, 1, 0, 0]),
        (7, [10], [7]),
        (0, [5, 7], [0, 0]),
        (0, [0, 0], [0, 0]),
        (0, [], []),
        (-100, [1, 1, 1], [-34, -33, -33]),
        # Remainders 3/7, 4/7, 0: the one cent left goes to the largest remainder.
        (10, [3, 4, 0], [4, 6, 0]),
    ],
)
def test_a_total_is_split_by_largest_remainder(
    total: int, weights: list[int], shares: list[int]
) -> None:
    assert allocate(total, weights) == shares


def test_equal_remainders_give_the_odd_cent_to_the_earlier_line() -> None:
    assert allocate(1, [1, 1]) == [1, 0]
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]


def test_a_total_cannot_be_split_over_weights_that_are_all_zero() -> None:
    with pytest.raises(ValueError, match="all zero"):
        allocate(5, [0, 0])
    with pytest.raises(ValueError):
        allocate(5, [])


def test_negative_weights_are_refused() -> None:
    with pytest.raises(ValueError):
        allocate(10, [1, -1, 2])


weights_lists = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30)


@given(st.integers(min_value=0, max_value=10**12), weights_lists)
def test_allocation_always_sums_to_the_total_and_is_never_negative(
    total: int, weights: list[int]
) -> None:
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    shares = allocate(total, weights)
    assert sum(shares) == total
    assert len(shares) == len(weights)
    assert all(share >= 0 for share in shares)
    assert all(share == 0 for share, weight in zip(shares, weights, strict=True) if weight == 0)


@given(st.integers(min_value=0, max_value=10**12), weights_lists)
def test_each_share_is_within_one_cent_of_its_exact_proportion(
    total: int, weights: list[int]
) -> None:
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    weight_sum = sum(weights)
    for share, weight in zip(allocate(total, weights), weights, strict=True):
        exact_floor = total * weight // weight_sum
        assert exact_floor <= share <= exact_floor + 1


@given(st.integers(min_value=0, max_value=10**12), weights_lists)
def test_a_larger_weight_never_gets_a_smaller_share(total: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    shares = allocate(total, weights)
    for i, j in zip(range(len(weights)), range(1, len(weights)), strict=False):
        if weights[i] > weights[j]:
            assert shares[i] >= shares[j]


# percent_of


@pytest.mark.parametrize(
    ("amount", "basis_points", "result"),
    [
        (10000, 1000, 1000),  # 10% of $100
        (1999, 825, 165),  # 164.9175 -> 165
        (1000, 825, 83),  # 82.5 -> 83: half a cent rounds up
        (200, 25, 1),  # 0.5 -> 1
        (199, 25, 0),  # 0.4975 -> 0
        (600, 25, 2),  # 1.5 -> 2
        (0, 825, 0),
        (12345, 0, 0),
        (12345, 10000, 12345),
        (-1000, 825, -83),  # half away from zero, like Decimal's ROUND_HALF_UP
    ],
)
def test_a_percentage_is_rounded_half_up_to_the_cent(
    amount: int, basis_points: int, result: int
) -> None:
    assert percent_of(amount, basis_points) == result


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=0, max_value=10**6),
)
def test_percent_of_agrees_with_decimal_round_half_up(amount: int, basis_points: int) -> None:
    expected = (Decimal(amount) * basis_points / 10000).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    assert percent_of(amount, basis_points) == int(expected)


@pytest.mark.parametrize(("cents", "text"), [(0, "0.00"), (5, "0.05"), (123450, "1234.50"),
                                             (-500, "-5.00"), (100000000, "1000000.00")])
def test_dollars_text_is_plain_dollars_for_a_spreadsheet(cents, text):
    assert dollars_text(cents) == text


def test_percent_text_is_plain_and_empty_when_there_is_none():
    assert (percent_text(1234), percent_text(-500), percent_text(None)) == ("12.34", "-5.00", "")

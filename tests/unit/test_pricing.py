"""Sale pricing, discount codes and refund amounts: the rounding rule of the product."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.domain.money import InvalidAmount
from pos.domain.pricing import (
    Discount,
    DiscountNotApplicable,
    LineInput,
    PricedLine,
    Quote,
    RefundAmounts,
    RefundExceedsSale,
    check_discount,
    price_sale,
    refund_amounts,
)

TAX_8_25 = 825


def serum(quantity: int = 1, price: int = 4500) -> LineInput:
    return LineInput(key="SERUM-30", unit_price_cents=price, quantity=quantity, taxable=True)


def session(quantity: int = 1, price: int = 30000) -> LineInput:
    """A microneedling session: a service, not taxed."""
    return LineInput(key="PKG-FACE-3", unit_price_cents=price, quantity=quantity, taxable=False)


def priced_line(quantity: int, subtotal: int, discount: int, tax: int) -> PricedLine:
    return PricedLine(
        key="SERUM-30",
        quantity=quantity,
        unit_price_cents=subtotal // quantity,
        subtotal_cents=subtotal,
        discount_cents=discount,
        tax_cents=tax,
        total_cents=subtotal - discount + tax,
    )


# price_sale: explicit cases


def test_a_single_taxed_line_without_discount() -> None:
    quote = price_sale([serum(quantity=2)], None, TAX_8_25)
    # 9000 * 8.25% = 742.5 -> 743
    assert quote == Quote(
        lines=(
            PricedLine(
                key="SERUM-30", quantity=2, unit_price_cents=4500, subtotal_cents=9000,
                discount_cents=0, tax_cents=743, total_cents=9743,
            ),
        ),
        subtotal_cents=9000,
        discount_cents=0,
        tax_cents=743,
        total_cents=9743,
    )


def test_tax_of_exactly_half_a_cent_rounds_up() -> None:
    # 200 * 0.25% = 0.5 cent
    quote = price_sale([serum(price=200)], None, 25)
    assert quote.tax_cents == 1
    assert quote.total_cents == 201


def test_tax_just_under_half_a_cent_rounds_down() -> None:
    # 199 * 0.25% = 0.4975 cent
    assert price_sale([serum(price=199)], None, 25).tax_cents == 0


def test_tax_is_rounded_once_per_sale_not_once_per_line() -> None:
    # Three lines of 0.5 cent of tax each: rounding per line would charge 3 cents; the sale's
    # taxable net (600) taxed once is 1.5 -> 2 cents, spread over the lines.
    lines = [
        LineInput(key=f"SKU-{n}", unit_price_cents=200, quantity=1, taxable=True)
        for n in range(3)
    ]
    quote = price_sale(lines, None, 25)
    assert quote.tax_cents == 2
    assert [line.tax_cents for line in quote.lines] == [1, 1, 0]


def test_a_service_alone_is_not_taxed() -> None:
    quote = price_sale([session()], None, TAX_8_25)
    assert quote.tax_cents == 0
    assert quote.total_cents == 30000
    assert quote.lines[0].tax_cents == 0


def test_mixed_lines_tax_only_the_retail_products() -> None:
    quote = price_sale([session(), serum(quantity=2)], None, TAX_8_25)
    assert quote.subtotal_cents == 39000
    assert [line.tax_cents for line in quote.lines] == [0, 743]
    assert quote.tax_cents == 743
    assert quote.total_cents == 39743


def test_a_percent_discount_is_spread_over_lines_to_the_cent() -> None:
    # 10% of 39000 = 3900, split 30000 : 9000 -> 3000 : 900.
    quote = price_sale([session(), serum(quantity=2)], Discount("percent", 1000), TAX_8_25)
    assert quote.discount_cents == 3900
    assert [line.discount_cents for line in quote.lines] == [3000, 900]
    # Tax on the serum's net: 8100 * 8.25% = 668.25 -> 668
    assert quote.tax_cents == 668
    assert [line.tax_cents for line in quote.lines] == [0, 668]
    assert quote.total_cents == 39000 - 3900 + 668
    assert [line.total_cents for line in quote.lines] == [27000, 8768]


def test_a_percent_discount_is_computed_once_on_the_subtotal_and_rounded_half_up() -> None:
    # 15% of 3 * 333 = 999 -> 149.85 -> 150; per line it would have been 3 * 49.95.
    lines = [
        LineInput(key=f"SKU-{n}", unit_price_cents=333, quantity=1, taxable=False)
        for n in range(3)
    ]
    quote = price_sale(lines, Discount("percent", 1500), 0)
    assert quote.discount_cents == 150
    assert [line.discount_cents for line in quote.lines] == [50, 50, 50]


def test_a_discount_that_does_not_split_evenly_gives_the_odd_cent_to_the_first_line() -> None:
    lines = [
        LineInput(key=f"SKU-{n}", unit_price_cents=1000, quantity=1, taxable=False)
        for n in range(3)
    ]
    quote = price_sale(lines, Discount("fixed", 100), 0)
    assert [line.discount_cents for line in quote.lines] == [34, 33, 33]


def test_a_fixed_discount_is_spread_in_proportion_to_line_subtotals() -> None:
    quote = price_sale([session(), serum(quantity=2)], Discount("fixed", 1300), TAX_8_25)
    # 1300 split 30000 : 9000 -> 1000 : 300
    assert [line.discount_cents for line in quote.lines] == [1000, 300]
    assert quote.tax_cents == 718  # 8700 * 8.25% = 717.75 -> 718


def test_a_discount_bigger_than_the_subtotal_is_capped_at_the_subtotal() -> None:
    quote = price_sale([serum()], Discount("fixed", 10_000), TAX_8_25)
    assert quote.discount_cents == 4500
    assert quote.tax_cents == 0
    assert quote.total_cents == 0
    assert quote.lines[0].total_cents == 0


def test_a_hundred_percent_discount_makes_the_sale_free() -> None:
    quote = price_sale([session(), serum()], Discount("percent", 10_000), TAX_8_25)
    assert quote.discount_cents == quote.subtotal_cents == 34500
    assert quote.total_cents == 0


def test_free_lines_price_to_zero_and_take_no_discount() -> None:
    bundle = LineInput(key="FIRST-VISIT", unit_price_cents=0, quantity=1, taxable=True)
    quote = price_sale([bundle, serum()], Discount("fixed", 500), TAX_8_25)
    assert quote.lines[0] == PricedLine(
        key="FIRST-VISIT", quantity=1, unit_price_cents=0, subtotal_cents=0,
        discount_cents=0, tax_cents=0, total_cents=0,
    )
    assert quote.lines[1].discount_cents == 500


def test_a_sale_of_only_free_lines_costs_nothing() -> None:
    bundle = LineInput(key="FIRST-VISIT", unit_price_cents=0, quantity=2, taxable=True)
    quote = price_sale([bundle], Discount("percent", 1000), TAX_8_25)
    assert (quote.subtotal_cents, quote.discount_cents, quote.tax_cents, quote.total_cents) == (
        0, 0, 0, 0,
    )


def test_no_tax_rate_means_no_tax() -> None:
    assert price_sale([serum(quantity=3)], None, 0).tax_cents == 0


def test_the_tax_on_several_taxed_lines_is_split_in_proportion_to_their_net() -> None:
    lines = [
        LineInput(key="A", unit_price_cents=1000, quantity=1, taxable=True),
        LineInput(key="B", unit_price_cents=2000, quantity=1, taxable=True),
        LineInput(key="C", unit_price_cents=5000, quantity=1, taxable=False),
    ]
    quote = price_sale(lines, None, 1000)
    assert [line.tax_cents for line in quote.lines] == [100, 200, 0]


def test_lines_keep_their_order_key_quantity_and_unit_price() -> None:
    quote = price_sale([serum(quantity=2), session(quantity=3)], None, TAX_8_25)
    assert [(line.key, line.quantity, line.unit_price_cents) for line in quote.lines] == [
        ("SERUM-30", 2, 4500),
        ("PKG-FACE-3", 3, 30000),
    ]


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_quantity_below_one_is_refused(quantity: int) -> None:
    with pytest.raises(InvalidAmount, match="quantity"):
        price_sale([serum(quantity=quantity)], None, TAX_8_25)


def test_a_negative_price_is_refused() -> None:
    with pytest.raises(InvalidAmount, match="negative"):
        price_sale([serum(price=-1)], None, TAX_8_25)


def test_a_sale_without_lines_is_refused() -> None:
    with pytest.raises(InvalidAmount):
        price_sale([], None, TAX_8_25)


def test_a_sale_above_the_largest_amount_is_refused() -> None:
    with pytest.raises(InvalidAmount):
        price_sale([serum(quantity=1000, price=10**8)], None, TAX_8_25)
    with pytest.raises(InvalidAmount):
        price_sale([serum(price=10**12)], None, TAX_8_25)


@pytest.mark.parametrize(
    "discount", [Discount("percent", -1), Discount("percent", 10_001), Discount("fixed", -1)]
)
def test_a_discount_out_of_range_is_refused(discount: Discount) -> None:
    with pytest.raises(InvalidAmount):
        price_sale([serum()], discount, TAX_8_25)


def test_a_negative_tax_rate_is_refused() -> None:
    with pytest.raises(InvalidAmount):
        price_sale([serum()], None, -1)


# price_sale: properties

line_inputs = st.builds(
    LineInput,
    key=st.text(min_size=1, max_size=8),
    unit_price_cents=st.integers(min_value=0, max_value=500_000),
    quantity=st.integers(min_value=1, max_value=50),
    taxable=st.booleans(),
)
discounts = st.one_of(
    st.none(),
    st.builds(Discount, kind=st.just("percent"), value=st.integers(min_value=0, max_value=10_000)),
    st.builds(Discount, kind=st.just("fixed"), value=st.integers(min_value=0, max_value=10**7)),
)
tax_rates = st.integers(min_value=0, max_value=3000)


@given(st.lists(line_inputs, min_size=1, max_size=12), discounts, tax_rates)
def test_a_sales_totals_are_the_sums_of_its_lines(
    lines: list[LineInput], discount: Discount | None, tax_rate_bp: int
) -> None:
    quote = price_sale(lines, discount, tax_rate_bp)
    assert quote.subtotal_cents == sum(line.subtotal_cents for line in quote.lines)
    assert quote.discount_cents == sum(line.discount_cents for line in quote.lines)
    assert quote.tax_cents == sum(line.tax_cents for line in quote.lines)
    assert quote.total_cents == sum(line.total_cents for line in quote.lines)
    assert quote.total_cents == quote.subtotal_cents - quote.discount_cents + quote.tax_cents


@given(st.lists(line_inputs, min_size=1, max_size=12), discounts, tax_rates)
def test_every_line_is_priced_consistently_and_never_below_zero(
    lines: list[LineInput], discount: Discount | None, tax_rate_bp: int
) -> None:
    quote = price_sale(lines, discount, tax_rate_bp)
    for given_line, line in zip(lines, quote.lines, strict=True):
        assert line.subtotal_cents == given_line.quantity * given_line.unit_price_cents
        assert 0 <= line.discount_cents <= line.subtotal_cents
        assert line.tax_cents >= 0
        assert line.total_cents == line.net_cents + line.tax_cents
        if not given_line.taxable:
            assert line.tax_cents == 0
    assert 0 <= quote.discount_cents <= quote.subtotal_cents
    assert quote.total_cents >= 0


@given(st.lists(line_inputs, min_size=1, max_size=12), discounts, tax_rates)
def test_the_sales_tax_is_the_rate_of_its_taxable_net_rounded_half_up_once(
    lines: list[LineInput], discount: Discount | None, tax_rate_bp: int
) -> None:
    quote = price_sale(lines, discount, tax_rate_bp)
    taxable_net = sum(
        line.net_cents for line, given_line in zip(quote.lines, lines, strict=True)
        if given_line.taxable
    )
    assert quote.tax_cents == (taxable_net * tax_rate_bp + 5000) // 10000


# check_discount

TODAY = date(2025, 3, 15)


def check(**overrides: object) -> None:
    arguments: dict[str, object] = {
        "active": True, "starts_on": None, "ends_on": None, "max_uses": None,
        "times_used": 0, "today": TODAY,
    }
    arguments.update(overrides)
    check_discount(**arguments)  # type: ignore[arg-type]


def refusal_reason(**overrides: object) -> str:
    with pytest.raises(DiscountNotApplicable) as refused:
        check(**overrides)
    assert refused.value.code == "discount_invalid"
    assert refused.value.status == 422
    reason: str = refused.value.details["reason"]
    return reason


def test_an_active_discount_without_limits_applies() -> None:
    check()


def test_a_discount_applies_on_its_first_and_last_day() -> None:
    check(starts_on=TODAY, ends_on=TODAY)


def test_a_discount_with_uses_left_applies() -> None:
    check(max_uses=10, times_used=9)


def test_an_inactive_discount_is_refused() -> None:
    assert refusal_reason(active=False) == "inactive"


def test_a_discount_before_its_start_is_refused() -> None:
    assert refusal_reason(starts_on=date(2025, 3, 16)) == "not_started"


def test_a_discount_after_its_end_is_refused() -> None:
    assert refusal_reason(ends_on=date(2025, 3, 14)) == "expired"


def test_a_discount_used_up_is_refused() -> None:
    assert refusal_reason(max_uses=10, times_used=10) == "usage_limit_reached"


def test_a_discount_limited_to_zero_uses_is_refused() -> None:
    assert refusal_reason(max_uses=0) == "usage_limit_reached"


def test_an_inactive_discount_is_reported_as_inactive_before_anything_else() -> None:
    assert refusal_reason(active=False, ends_on=date(2025, 1, 1), max_uses=0) == "inactive"


# refund_amounts


def test_refunding_a_whole_line_at_once_returns_its_net_and_tax() -> None:
    line = priced_line(quantity=3, subtotal=13500, discount=1350, tax=1002)
    assert refund_amounts(line, 0, 3) == RefundAmounts(net_cents=12150, tax_cents=1002)


def test_refunding_one_unit_at_a_time_returns_exactly_the_line() -> None:
    line = priced_line(quantity=3, subtotal=1000, discount=0, tax=83)
    steps = [refund_amounts(line, done, 1) for done in range(3)]
    # 1000/3: floor(333.3)=333, floor(666.6)-333=333, 1000-666=334
    assert [step.net_cents for step in steps] == [333, 333, 334]
    assert [step.tax_cents for step in steps] == [27, 28, 28]
    assert sum(step.total_cents for step in steps) == 1083


def test_a_refund_after_an_earlier_one_takes_what_is_left() -> None:
    line = priced_line(quantity=4, subtotal=1001, discount=0, tax=83)
    first = refund_amounts(line, 0, 1)
    rest = refund_amounts(line, 1, 3)
    assert first.net_cents + rest.net_cents == 1001
    assert first.tax_cents + rest.tax_cents == 83


def test_a_refund_of_an_untaxed_service_returns_no_tax() -> None:
    line = priced_line(quantity=1, subtotal=30000, discount=3000, tax=0)
    assert refund_amounts(line, 0, 1) == RefundAmounts(net_cents=27000, tax_cents=0)


def test_refunding_more_than_was_sold_is_refused() -> None:
    line = priced_line(quantity=2, subtotal=9000, discount=0, tax=743)
    with pytest.raises(RefundExceedsSale) as refused:
        refund_amounts(line, 0, 3)
    assert refused.value.code == "refund_exceeds_sale"
    assert refused.value.status == 422
    assert refused.value.details["refundable"] == 2


def test_refunding_more_than_is_left_after_an_earlier_refund_is_refused() -> None:
    line = priced_line(quantity=2, subtotal=9000, discount=0, tax=743)
    with pytest.raises(RefundExceedsSale):
        refund_amounts(line, 2, 1)
    with pytest.raises(RefundExceedsSale):
        refund_amounts(line, 1, 2)


@pytest.mark.parametrize("quantity", [0, -1])
def test_refunding_less_than_one_unit_is_refused(quantity: int) -> None:
    line = priced_line(quantity=2, subtotal=9000, discount=0, tax=743)
    with pytest.raises(RefundExceedsSale):
        refund_amounts(line, 0, quantity)


@st.composite
def line_and_refund_steps(draw: st.DrawFn) -> tuple[PricedLine, list[int]]:
    quantity = draw(st.integers(min_value=1, max_value=40))
    unit = draw(st.integers(min_value=0, max_value=200_000))
    tax_rate = draw(tax_rates)
    discount = draw(discounts)
    taxable = draw(st.booleans())
    other = draw(st.lists(line_inputs, max_size=3))
    lines = [LineInput(key="REFUNDED", unit_price_cents=unit, quantity=quantity,
                       taxable=taxable), *other]
    line = price_sale(lines, discount, tax_rate).lines[0]
    steps: list[int] = []
    left = quantity
    while left:
        step = draw(st.integers(min_value=1, max_value=left))
        steps.append(step)
        left -= step
    return line, steps


@given(line_and_refund_steps())
def test_refunding_a_line_in_any_steps_returns_exactly_its_net_and_tax(
    case: tuple[PricedLine, list[int]],
) -> None:
    line, steps = case
    done = 0
    net = tax = 0
    for step in steps:
        amounts = refund_amounts(line, done, step)
        assert amounts.net_cents >= 0
        assert amounts.tax_cents >= 0
        net += amounts.net_cents
        tax += amounts.tax_cents
        done += step
    assert (net, tax) == (line.net_cents, line.tax_cents)
    with pytest.raises(RefundExceedsSale):
        refund_amounts(line, done, 1)


@given(line_and_refund_steps())
def test_a_first_partial_refund_never_returns_more_than_its_exact_share(
    case: tuple[PricedLine, list[int]],
) -> None:
    line, steps = case
    step = steps[0]
    amounts = refund_amounts(line, 0, step)
    assert amounts.net_cents * line.quantity <= line.net_cents * step
    assert amounts.tax_cents * line.quantity <= line.tax_cents * step


# A manager's manual discount: after the code's, on what the code left; one discount
# figure spread over the lines, tax on the net, correct to the cent.


def test_a_manual_discount_comes_after_the_codes_and_tax_is_on_the_net() -> None:
    quote = price_sale([serum(quantity=3), session()], Discount("percent", 1000), TAX_8_25,
                       manual=Discount("fixed", 333))
    # 13500 + 30000 = 43500; code 10 % = 4350; manual 333 -> discount 4683
    assert (quote.subtotal_cents, quote.discount_cents, quote.manual_discount_cents) == \
        (43500, 4683, 333)
    serum_line, session_line = quote.lines
    assert serum_line.discount_cents + session_line.discount_cents == 4683
    # Only the serum is taxed: 8.25 % of its net, rounded half up once.
    assert quote.tax_cents == (serum_line.net_cents * TAX_8_25 + 5000) // 10000
    assert session_line.tax_cents == 0
    assert quote.total_cents == 43500 - 4683 + quote.tax_cents


def test_a_manual_percent_is_of_what_the_code_left_and_never_below_zero() -> None:
    quote = price_sale([serum(price=1000)], Discount("fixed", 400), 0,
                       manual=Discount("percent", 5000))
    assert (quote.discount_cents, quote.manual_discount_cents, quote.total_cents) == \
        (700, 300, 300)
    capped = price_sale([serum(price=1000)], Discount("fixed", 900), 0,
                        manual=Discount("fixed", 500))
    assert (capped.discount_cents, capped.manual_discount_cents, capped.total_cents) == \
        (1000, 100, 0)


@given(st.lists(line_inputs, min_size=1, max_size=12), discounts, discounts, tax_rates)
def test_with_a_manual_discount_the_totals_are_still_the_sums_of_the_lines(
    lines: list[LineInput], discount: Discount | None, manual: Discount | None,
    tax_rate_bp: int
) -> None:
    quote = price_sale(lines, discount, tax_rate_bp, manual=manual)
    assert quote.discount_cents == sum(line.discount_cents for line in quote.lines)
    assert quote.tax_cents == sum(line.tax_cents for line in quote.lines)
    assert quote.total_cents == sum(line.total_cents for line in quote.lines)
    assert 0 <= quote.manual_discount_cents <= quote.discount_cents <= quote.subtotal_cents
    taxable_net = sum(line.net_cents for line, given_line in zip(quote.lines, lines,
                                                                  strict=True)
                      if given_line.taxable)
    assert quote.tax_cents == (taxable_net * tax_rate_bp + 5000) // 10000

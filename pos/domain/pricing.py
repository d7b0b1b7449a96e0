"""Pricing a sale, checking a discount code, and the money a refund gives back.

This module is the rounding rule of the product. All amounts are integer cents.

Pricing a sale (`price_sale`):
1. A line's subtotal is quantity * unit price; the sale's subtotal is their sum.
2. The discount is computed ONCE, on the sale's subtotal: a percent discount is
   `percent_of(subtotal, basis_points)` (round half up); a fixed discount is its value.
   It is capped at the subtotal, so a sale never goes below zero. A manual discount (a
   manager's, `manual`) comes after the code's, on what the code left: a percent of that
   remainder (round half up) or a fixed amount, capped at it. The sale's discount is the
   sum of both, and that one figure is spread over
   the lines by `allocate` (largest remainder) in proportion to the line subtotals, so the
   lines' discounts add up to the sale's discount to the cent.
3. A line's net is its subtotal minus its discount.
4. Tax is computed ONCE per sale: round half up of (sum of the taxable lines' net) *
   rate_bp / 10000. It is then spread over the taxable lines by `allocate` in proportion to
   their net; untaxed lines (services) carry 0 tax. Per-line tax therefore sums exactly to
   the sale's tax, which is what lets refunds give back exactly what was charged.
5. A line's total is net + tax; the sale's total is subtotal - discount + tax, which is
   also the sum of the lines' totals.

Refunding (`refund_amounts`): refunding q units of a line of Q units, of which `prev` were
refunded before, gives back floor(net * (prev + q) / Q) - floor(net * prev / Q) of the
line's net, and the same formula for its tax. Because it is cumulative, refunding every
unit, in any number of steps, gives back exactly the line's net and tax.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, NoReturn

from pos.domain.errors import PosError
from pos.domain.limits import MAX_AMOUNT_CENTS
from pos.domain.money import InvalidAmount, allocate, format_cents, percent_of

BASIS_POINTS_IN_WHOLE = 10_000

DiscountRefusal = Literal["expired", "not_started", "usage_limit_reached", "inactive", "unknown"]


class AmountTooLarge(InvalidAmount):
    """A sale whose computed subtotal or total is above MAX_AMOUNT_CENTS: each input was
    within its limits, the sum of them is not (API.md "Validation")."""

    code = "amount_too_large"
    status = 422


def check_amount(name: str, cents: int) -> None:
    if cents > MAX_AMOUNT_CENTS:
        raise AmountTooLarge(
            f"A sale's {name} of {format_cents(cents)} is more than the largest accepted, "
            f"{format_cents(MAX_AMOUNT_CENTS)}.",
            {f"{name}_cents": cents, "max_cents": MAX_AMOUNT_CENTS},
        )


class DiscountNotApplicable(PosError):
    """A discount code that cannot be used today; `details["reason"]` says why.

    The reason is one of "expired", "not_started", "usage_limit_reached", "inactive" or
    "unknown" (no such code: raised by whoever looks the code up).
    """

    code = "discount_invalid"
    status = 422


class RefundExceedsSale(PosError):
    """A refund for more units of a line than were sold and not yet refunded."""

    code = "refund_exceeds_sale"
    status = 422


@dataclass(frozen=True)
class LineInput:
    key: str
    unit_price_cents: int
    quantity: int
    taxable: bool


@dataclass(frozen=True)
class Discount:
    """`value` is in basis points for "percent" (1000 = 10%) and in cents for "fixed"."""

    kind: Literal["percent", "fixed"]
    value: int


@dataclass(frozen=True)
class PricedLine:
    key: str
    quantity: int
    unit_price_cents: int
    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    total_cents: int

    @property
    def net_cents(self) -> int:
        """What the line sells for after its share of the discount, tax excluded."""
        return self.subtotal_cents - self.discount_cents


@dataclass(frozen=True)
class Quote:
    lines: tuple[PricedLine, ...]
    subtotal_cents: int
    discount_cents: int
    tax_cents: int
    total_cents: int
    # The manual part of discount_cents (the rest is the code's).
    manual_discount_cents: int = 0


@dataclass(frozen=True)
class RefundAmounts:
    net_cents: int
    tax_cents: int

    @property
    def total_cents(self) -> int:
        return self.net_cents + self.tax_cents


def price_sale(lines: Sequence[LineInput], discount: Discount | None, tax_rate_bp: int,
               manual: Discount | None = None) -> Quote:
    """Price a sale by the rules in this module's docstring (`manual`: a manager's
    discount, applied after the code's on what it left).

    InvalidAmount for: no lines, a quantity below 1, a negative unit price, a unit price or
    sale subtotal above MAX_AMOUNT_CENTS, a negative tax rate, a percent discount outside 0-100%,
    or a negative fixed discount.
    """
    _check_lines(lines)
    if tax_rate_bp < 0:
        raise InvalidAmount("A tax rate cannot be negative.", {"tax_rate_bp": tax_rate_bp})

    line_subtotals = [line.quantity * line.unit_price_cents for line in lines]
    subtotal = sum(line_subtotals)
    check_amount("subtotal", subtotal)

    code_discount = _discount_amount(subtotal, discount)
    manual_discount = _discount_amount(subtotal - code_discount, manual)
    discount_total = code_discount + manual_discount
    line_discounts = allocate(discount_total, line_subtotals)
    line_nets = [sub - disc for sub, disc in zip(line_subtotals, line_discounts, strict=True)]

    taxable_nets = [net if line.taxable else 0 for line, net in zip(lines, line_nets, strict=True)]
    tax_total = percent_of(sum(taxable_nets), tax_rate_bp)
    line_taxes = allocate(tax_total, taxable_nets)

    priced = tuple(
        PricedLine(
            key=line.key,
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
            subtotal_cents=sub,
            discount_cents=disc,
            tax_cents=tax,
            total_cents=net + tax,
        )
        for line, sub, disc, net, tax in zip(
            lines, line_subtotals, line_discounts, line_nets, line_taxes, strict=True
        )
    )
    check_amount("total", subtotal - discount_total + tax_total)
    return Quote(
        lines=priced,
        subtotal_cents=subtotal,
        discount_cents=discount_total,
        tax_cents=tax_total,
        total_cents=subtotal - discount_total + tax_total,
        manual_discount_cents=manual_discount,
    )


def _check_lines(lines: Sequence[LineInput]) -> None:
    if not lines:
        raise InvalidAmount("A sale needs at least one line.")
    for line in lines:
        if line.quantity < 1:
            raise InvalidAmount(
                f"The quantity of {line.key} must be at least 1, not {line.quantity}.",
                {"key": line.key, "quantity": line.quantity},
            )
        if line.unit_price_cents < 0:
            raise InvalidAmount(
                f"The price of {line.key} cannot be negative.",
                {"key": line.key, "unit_price_cents": line.unit_price_cents},
            )
        if line.unit_price_cents > MAX_AMOUNT_CENTS:
            raise InvalidAmount(
                f"The price of {line.key} is more than the largest accepted, "
                f"{format_cents(MAX_AMOUNT_CENTS)}.",
                {"key": line.key, "unit_price_cents": line.unit_price_cents},
            )


def _discount_amount(subtotal: int, discount: Discount | None) -> int:
    """The sale's discount in cents: computed once on the subtotal, never above it."""
    if discount is None:
        return 0
    if discount.kind == "percent":
        if not 0 <= discount.value <= BASIS_POINTS_IN_WHOLE:
            raise InvalidAmount(
                "A percent discount must be between 0% and 100%.",
                {"value": discount.value},
            )
        amount = percent_of(subtotal, discount.value)
    elif discount.kind == "fixed":
        if discount.value < 0:
            raise InvalidAmount("A fixed discount cannot be negative.", {"value": discount.value})
        amount = discount.value
    else:
        raise InvalidAmount(f"Unknown discount kind {discount.kind!r}.", {"kind": discount.kind})
    return min(amount, subtotal)


def check_discount(
    *,
    active: bool,
    starts_on: date | None,
    ends_on: date | None,
    max_uses: int | None,
    times_used: int,
    today: date,
) -> None:
    """Raise DiscountNotApplicable unless the discount can be used `today`.

    Both dates are inclusive: a discount ending on the 31st still works on the 31st.
    Checked in this order: inactive, not started, expired, usage limit reached.
    """
    if not active:
        _refuse("inactive", "This discount code is not active.")
    if starts_on is not None and today < starts_on:
        _refuse("not_started", f"This discount code starts on {starts_on.isoformat()}.",
                starts_on=starts_on.isoformat())
    if ends_on is not None and today > ends_on:
        _refuse("expired", f"This discount code expired on {ends_on.isoformat()}.",
                ends_on=ends_on.isoformat())
    if max_uses is not None and times_used >= max_uses:
        _refuse("usage_limit_reached",
                f"This discount code has been used {times_used} of {max_uses} times.",
                max_uses=max_uses, times_used=times_used)


def _refuse(reason: DiscountRefusal, message: str, **more: object) -> NoReturn:
    raise DiscountNotApplicable(message, {"reason": reason, **more})


def refund_amounts(line: PricedLine, already_refunded_qty: int, quantity: int) -> RefundAmounts:
    """The net and tax given back for refunding `quantity` units of `line`.

    Cumulative pro rata (see the module docstring), so the steps of a refund add up to
    exactly the line's net and tax once every unit is back. RefundExceedsSale when
    `quantity` < 1 or more units would be refunded than the line sold.
    """
    if already_refunded_qty < 0:
        raise ValueError(f"already_refunded_qty cannot be negative: {already_refunded_qty}")
    remaining = line.quantity - already_refunded_qty
    if quantity < 1 or quantity > remaining:
        raise RefundExceedsSale(
            f"Cannot refund {quantity} of {line.key}: {line.quantity} sold, "
            f"{max(remaining, 0)} left to refund.",
            {
                "key": line.key,
                "requested": quantity,
                "sold": line.quantity,
                "already_refunded": already_refunded_qty,
                "refundable": max(remaining, 0),
            },
        )
    after = already_refunded_qty + quantity
    return RefundAmounts(
        net_cents=_pro_rata(line.net_cents, after, line.quantity)
        - _pro_rata(line.net_cents, already_refunded_qty, line.quantity),
        tax_cents=_pro_rata(line.tax_cents, after, line.quantity)
        - _pro_rata(line.tax_cents, already_refunded_qty, line.quantity),
    )


def _pro_rata(amount: int, units: int, of_units: int) -> int:
    return amount * units // of_units

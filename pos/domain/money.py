"""Money as integer cents: parsing dollars text, showing it, splitting it, taking percentages.

No float ever holds money here. Text is parsed with `Decimal`; everything after that is
integer arithmetic, so every rounding step is exact and written down.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from pos.domain.errors import PosError
from pos.domain.limits import MAX_AMOUNT_CENTS

MAX_CENTS = MAX_AMOUNT_CENTS
"""The one limit of pos.domain.limits, under the name the money rules have always used."""

# Optional "$", then plain digits or digits grouped by thousands with commas, then an
# optional fraction (".50" alone is fine; more than two decimals is refused after the match
# so that the message can say why). ASCII digits only: `\d` would accept other scripts'
# digits, which Decimal would then happily read.
_DOLLARS = re.compile(r"\$?(?P<whole>[0-9]*|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.(?P<frac>[0-9]+))?")
_MAX_TEXT_LENGTH = 40


class InvalidAmount(PosError):
    """A money amount that is not a valid, non-negative number of cents."""

    code = "validation_error"
    status = 422


def parse_cents(text: str) -> int:
    """Dollars text ("12", "12.5", "12.50", "$1,234.56") -> integer cents.

    Refused with InvalidAmount: empty text, negatives, more than two decimals ("12.999"),
    NaN, infinities, exponent forms ("1e3"), anything else that is not plain dollars, and
    amounts above MAX_CENTS.
    """
    if not isinstance(text, str):
        raise InvalidAmount("An amount must be given as text, like 12.50.",
                            {"value": repr(text)[:_MAX_TEXT_LENGTH]})
    cleaned = text.strip()
    details = {"value": cleaned[:_MAX_TEXT_LENGTH]}
    if not cleaned:
        raise InvalidAmount("An amount is required.", details)
    if cleaned.startswith(("-", "$-", "(", "\u2212")):
        raise InvalidAmount(f"An amount cannot be negative: {cleaned[:_MAX_TEXT_LENGTH]!r}.",
                            details)
    if len(cleaned) > _MAX_TEXT_LENGTH:
        raise InvalidAmount("That amount is too long to be a price.", details)
    match = _DOLLARS.fullmatch(cleaned)
    if match is None or not (match.group("whole") or match.group("frac")):
        raise InvalidAmount(
            f"{cleaned!r} is not an amount in dollars; write it like 1234.56 or $1,234.56.",
            details,
        )
    frac = match.group("frac") or ""
    if len(frac) > 2:
        raise InvalidAmount(
            f"{cleaned!r} has more than two decimals; amounts are in whole cents.", details
        )
    whole = match.group("whole").replace(",", "") or "0"
    dollars = Decimal(whole + "." + frac.ljust(2, "0"))
    cents = int(dollars * 100)
    if cents > MAX_CENTS:
        raise InvalidAmount(
            f"{cleaned!r} is more than the largest amount accepted, "
            f"{format_cents(MAX_CENTS)}.",
            details,
        )
    return cents


def format_cents(cents: int, currency: str = "usd") -> str:
    """Cents for people: "$1,234.56", "-$5.00"; other currencies "1,234.56 EUR"."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    number = f"{dollars:,}.{rest:02d}"
    if currency.lower() == "usd":
        return f"{sign}${number}"
    return f"{sign}{number} {currency.upper()}"


def dollars_text(cents: int) -> str:
    """Cents as plain dollars for a spreadsheet: "1234.50", "-5.00", "0.00" (no sign of
    currency, no thousands separator)."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}{dollars}.{rest:02d}"


def percent_text(basis_points: int | None) -> str:
    """Basis points as a plain percentage, "12.34" or "-5.00"; empty when there is none."""
    if basis_points is None:
        return ""
    sign = "-" if basis_points < 0 else ""
    whole, rest = divmod(abs(basis_points), 100)
    return f"{sign}{whole}.{rest:02d}"


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` cents across `weights` in proportion, losing no cent.

    Largest-remainder method: each share is first rounded down, then the cents left over
    go one each to the shares with the largest remainders, ties to the earlier index. The
    result always sums to exactly `total`; a zero weight always gets 0. A negative total
    is split as the mirror image of the positive one.

    All weights zero (or no weights) can only hold a total of 0: all zeros are returned
    then, and ValueError is raised for any other total. Negative weights: ValueError.
    """
    if any(weight < 0 for weight in weights):
        raise ValueError(f"weights must not be negative: {list(weights)}")
    if total < 0:
        return [-share for share in allocate(-total, weights)]
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total != 0:
            raise ValueError(f"cannot allocate {total} over weights that are all zero")
        return [0] * len(weights)
    shares: list[int] = []
    remainders: list[int] = []
    for weight in weights:
        share, remainder = divmod(total * weight, weight_sum)
        shares.append(share)
        remainders.append(remainder)
    left_over = total - sum(shares)
    # Only indices with a remainder can receive a cent; there are always more of them than
    # cents left over (each remainder is below weight_sum, and they add up to
    # left_over * weight_sum), so zero weights, whose remainder is 0, never get one.
    by_remainder = sorted(
        (index for index, remainder in enumerate(remainders) if remainder > 0),
        key=lambda index: (-remainders[index], index),
    )
    for index in by_remainder[:left_over]:
        shares[index] += 1
    return shares


def percent_of(amount_cents: int, basis_points: int) -> int:
    """`basis_points` / 10000 of `amount_cents`, rounded half up (1000 bp = 10%).

    Half up as in accounting (Decimal's ROUND_HALF_UP): an exact half cent goes away from
    zero, so 0.5 cent becomes 1 cent and -0.5 cent becomes -1 cent. Integers only.
    """
    product = amount_cents * basis_points
    sign = -1 if product < 0 else 1
    return sign * ((abs(product) + 5000) // 10000)

"""Account credit: what a client may spend, never below zero. Pure rules, no database."""
from __future__ import annotations

from pos.domain.errors import PosError
from pos.domain.money import format_cents


class CreditTooLow(PosError):
    """Spending more account credit than the client holds."""

    code = "credit_too_low"
    status = 422


class ClientRequired(PosError):
    """Account credit belongs to a client: a sale without one cannot be refunded to it."""

    code = "client_required"
    status = 422


def balance_after_spending(balance_cents: int, amount_cents: int) -> int:
    """The balance once `amount_cents` (at least 1 cent) is spent; CreditTooLow beyond it."""
    if amount_cents < 1:
        raise ValueError("an amount of credit spent is at least 1 cent")
    if amount_cents > balance_cents:
        raise CreditTooLow(
            f"The client's account credit is {format_cents(balance_cents)}: "
            f"{format_cents(amount_cents)} cannot be paid from it.",
            {"credit_cents": balance_cents, "amount_cents": amount_cents})
    return balance_cents - amount_cents

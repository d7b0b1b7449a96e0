"""Gift card codes and amounts: pure rules, no database.

A code is 16 characters from an alphabet without the look-alikes 0/O and 1/I, drawn with
`secrets` (32**16 = 2**80 codes: unguessable). It is shown grouped XXXX-XXXX-XXXX-XXXX and
accepted with or without dashes or spaces, in any case. Everywhere but the receipt of the
sale that sold it, only its last four characters are shown.
"""
from __future__ import annotations

import secrets
from enum import StrEnum

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 16
GROUP = 4
# What a gift card may be sold for, in cents: $1 to $1,000 (a larger one is a cheque).
MIN_AMOUNT_CENTS = 100
MAX_AMOUNT_CENTS = 100_000


class GiftCardEntryKind(StrEnum):
    """One movement of a gift card's balance (gift_card_entries.kind)."""

    ISSUE = "issue"  # + the amount sold, when the sale that sold it is paid
    REDEEM = "redeem"  # - spent as a tender
    REFUND = "refund"  # - the unspent balance given back with the refund of its sale line
    REVERSE = "reverse"  # + a redemption given back (its tender refunded or abandoned)


def new_code() -> str:
    """A fresh code, undashed, as stored."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be one."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def grouped(code: str) -> str:
    """ABCD-EFGH-JKLM-NPQR."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def masked(code: str) -> str:
    """****-****-****-NPQR: enough to tell two cards apart, not to spend one."""
    hidden = "-".join("*" * GROUP for _ in range(CODE_LENGTH // GROUP - 1))
    return f"{hidden}-{code[-GROUP:]}"

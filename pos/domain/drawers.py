"""Cash drawer rules: what the drawer should hold, over/short, and when a note is needed."""
from __future__ import annotations

from dataclasses import dataclass

from pos.domain.errors import PosError


class DrawerAlreadyOpen(PosError):
    code = "drawer_already_open"
    status = 409


class NoOpenDrawer(PosError):
    code = "no_open_drawer"
    status = 404


class DrawerNotOpen(PosError):
    """Counting or paying in/out of a drawer that is already closed."""

    code = "drawer_closed"
    status = 409


class DrawerNotClosed(PosError):
    code = "drawer_not_closed"
    status = 409


class NoteRequired(PosError):
    code = "note_required"
    status = 422


@dataclass(frozen=True)
class DrawerFigures:
    opening_float_cents: int = 0
    cash_sales_cents: int = 0
    cash_refunds_cents: int = 0
    paid_in_cents: int = 0
    paid_out_cents: int = 0

    @property
    def expected_cents(self) -> int:
        """Float + cash sales - cash refunds + paid in - paid out."""
        return (self.opening_float_cents + self.cash_sales_cents - self.cash_refunds_cents
                + self.paid_in_cents - self.paid_out_cents)


def over_short(counted_cents: int, expected_cents: int) -> int:
    """Counted - expected: negative when cash is missing."""
    return counted_cents - expected_cents


def needs_note(over_short_cents: int, tolerance_cents: int) -> bool:
    """Past the tolerance either way, the person closing says why."""
    return abs(over_short_cents) > tolerance_cents

"""Cash drawers: open with a float, count and close, pay in and out."""
from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Interval

from pos.domain.limits import MAX_AMOUNT_CENTS
from pos.web.api.schemas.types import Cents, SafeText, StrictModel

Note = Annotated[str, SafeText(500, optional=True)]


class OpenDrawerIn(StrictModel):
    opening_float_cents: Cents


class CloseDrawerIn(StrictModel):
    counted_cents: Cents
    note: Note | None = None


class DrawerMovementIn(StrictModel):
    kind: Literal["paid_in", "paid_out"]
    amount_cents: Annotated[int, Interval(ge=1, le=MAX_AMOUNT_CENTS)]
    note: Annotated[str, SafeText(500)]

"""Discount codes, and a manager's manual discount on a sale with its approval."""
from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Interval
from pydantic import model_validator

from pos.domain.limits import MAX_AMOUNT_CENTS
from pos.services.discounts import NewDiscountCode
from pos.services.sales import ManualDiscount
from pos.web.api.schemas.types import Day, SafeText, StrictModel

CodeText = Annotated[str, SafeText(40, pattern=r"^[A-Za-z0-9_-]+$",
                                   pattern_problem="has letters, digits, - and _ only")]
Percent = Annotated[int, Interval(ge=1, le=100)]
PositiveCents = Annotated[int, Interval(ge=1, le=MAX_AMOUNT_CENTS)]


class DiscountCodeIn(StrictModel):
    """`value`: a whole percent 1-100 for `percent`, cents for `fixed`."""

    code: CodeText
    kind: Literal["percent", "fixed"]
    value: PositiveCents
    starts_on: Day | None = None
    ends_on: Day | None = None
    max_uses: Annotated[int, Interval(ge=1, le=1_000_000)] | None = None

    def new(self) -> NewDiscountCode:
        return NewDiscountCode(code=self.code, kind=self.kind, value=self.value,
                               starts_on=self.starts_on, ends_on=self.ends_on,
                               max_uses=self.max_uses)


class DiscountCodePatchIn(StrictModel):
    active: bool


class ManualDiscountIn(StrictModel):
    """Exactly one of `amount_cents` and `percent` (whole), and why."""

    amount_cents: PositiveCents | None = None
    percent: Percent | None = None
    reason: Annotated[str, SafeText(500)]

    @model_validator(mode="after")
    def _one_amount(self) -> ManualDiscountIn:
        if (self.amount_cents is None) == (self.percent is None):
            raise ValueError("needs exactly one of amount_cents and percent")
        return self

    def manual(self, approved_by_id: int | None) -> ManualDiscount:
        return ManualDiscount(reason=self.reason, percent=self.percent,
                              amount_cents=self.amount_cents, approved_by_id=approved_by_id)


class ApprovalIn(StrictModel):
    """A manager at the desk approves: their email and staff PIN."""

    email: Annotated[str, SafeText(254)]
    pin: Annotated[str, SafeText(8, pattern=r"^[0-9]{4,8}$",
                                 pattern_problem="is 4 to 8 digits")]

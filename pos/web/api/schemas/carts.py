"""The desk's saved cart and a parked sale: the cart lines of pos.web.api.schemas.sales."""
from __future__ import annotations

from typing import Annotated

from annotated_types import Len

from pos.models.carts import LABEL_LENGTH
from pos.services import sales
from pos.services.carts import CartContents
from pos.web.api.schemas.sales import CartLineIn, DiscountCode, Lines
from pos.web.api.schemas.types import Id, SafeText, StrictModel

# A cart being built may be empty (the desk saves it after each change).
CartLines = Annotated[list[CartLineIn], Len(min_length=0, max_length=sales.MAX_LINES)]
Label = Annotated[str, SafeText(LABEL_LENGTH, optional=True)]


class DeskCartStateIn(StrictModel):
    """What the checkout shows: the client, the lines and the discount code."""

    client_id: Id | None = None
    lines: CartLines = []
    discount_code: DiscountCode | None = None

    def contents(self) -> CartContents:
        return CartContents(client_id=self.client_id, discount_code=self.discount_code,
                            lines=tuple(line.cart_line() for line in self.lines))


class ParkedSaleIn(StrictModel):
    """A sale put aside: under the client's name, or a label typed for a walk-in."""

    client_id: Id | None = None
    label: Label | None = None
    lines: Lines
    discount_code: DiscountCode | None = None

    def contents(self) -> CartContents:
        return CartContents(client_id=self.client_id, discount_code=self.discount_code,
                            lines=tuple(line.cart_line() for line in self.lines))



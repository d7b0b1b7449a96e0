"""A cart, a sale and a refund: one cart model for the API and the desk's checkout."""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from annotated_types import Len
from pydantic import Field, model_validator

from pos.domain.errors import PosError
from pos.domain.gift_cards import MAX_AMOUNT_CENTS, MIN_AMOUNT_CENTS
from pos.domain.money import parse_cents
from pos.services import sales
from pos.web.api.schemas.discounts import ApprovalIn, ManualDiscountIn
from pos.web.api.schemas.types import Cents, Id, Quantity, SafeText, StrictModel

Code = Annotated[str, SafeText(64, optional=True)]


class GiftCardLineIn(StrictModel):
    """A gift card sold: $1.00 to $1,000.00; its code mailed to the recipient if given."""

    amount_cents: Annotated[int, Field(ge=MIN_AMOUNT_CENTS, le=MAX_AMOUNT_CENTS, strict=True)]
    recipient_email: Annotated[str, SafeText(254, optional=True)] | None = None

    @model_validator(mode="after")
    def _an_address(self) -> GiftCardLineIn:
        if self.recipient_email is not None and not _EMAIL.fullmatch(self.recipient_email):
            raise ValueError("recipient_email is not an email address")
        return self


_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,63}")


class CartLineIn(StrictModel):
    """Exactly one of sku, package_code (with how many) and gift_card."""

    sku: Code | None = None
    package_code: Code | None = None
    # Absent on a gift card line; an explicit null is refused like any other bad quantity.
    quantity: Quantity = None  # type: ignore[assignment]
    gift_card: GiftCardLineIn | None = None

    @model_validator(mode="after")
    def _one_product(self) -> CartLineIn:
        if self.gift_card is not None:
            if self.sku is not None or self.package_code is not None or \
                    self.quantity is not None:
                raise ValueError("a gift_card line has no sku, package_code or quantity")
            return self
        if (self.sku is None) == (self.package_code is None):
            # (or, instead of both, a gift_card)
            raise ValueError("needs exactly one of sku and package_code")
        if self.quantity is None:
            raise ValueError("needs a quantity")
        return self

    def cart_line(self) -> sales.CartLine:
        if self.gift_card is not None:
            return sales.CartLine(sku=None, package_code=None, quantity=1,
                                  gift_card_cents=self.gift_card.amount_cents,
                                  recipient_email=self.gift_card.recipient_email)
        assert self.quantity is not None
        return sales.CartLine(sku=self.sku, package_code=self.package_code,
                              quantity=self.quantity)


Lines = Annotated[list[CartLineIn], Len(min_length=1, max_length=sales.MAX_LINES)]
DiscountCode = Annotated[str, SafeText(40, optional=True)]
PaymentMethod = Literal[sales.PAYMENT_METHODS]  # type: ignore[valid-type]


class SaleIn(StrictModel):
    client_id: Id | None = None
    lines: Lines
    discount_code: DiscountCode | None = None
    payment: PaymentMethod
    cash_tendered_cents: Cents | None = None
    manual_discount: ManualDiscountIn | None = None
    approval: ApprovalIn | None = None

    def cart(self) -> list[sales.CartLine]:
        return [line.cart_line() for line in self.lines]


class RefundLineIn(StrictModel):
    line_id: Id
    quantity: Quantity


class RefundIn(StrictModel):
    lines: Annotated[list[RefundLineIn], Len(min_length=1, max_length=sales.MAX_LINES)]
    restock: bool
    reason: Annotated[str, SafeText(500)]


class VoidIn(StrictModel):
    """Why a sale is voided; optional (kept with the refund of a paid sale)."""
    reason: Annotated[str, SafeText(500)] = ""


_DIGITS = re.compile(r"[0-9]{1,10}")


class DeskCartIn(StrictModel):
    """The checkout script's cart: the same lines, with what a browser form sends as text
    (the client box's id, a quantity box's digits, the cash tendered in dollars)."""

    client_id: Id | None = None
    lines: Lines
    discount_code: DiscountCode | None = None
    cash_tendered: Annotated[str, SafeText(40, optional=True)] | None = None
    payment: PaymentMethod | None = None
    manual_discount: ManualDiscountIn | None = None
    approval: ApprovalIn | None = None

    @model_validator(mode="before")
    @classmethod
    def _form_text(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        client_id = data.get("client_id")
        if client_id == "":
            data["client_id"] = None
        elif isinstance(client_id, str) and _DIGITS.fullmatch(client_id):
            data["client_id"] = int(client_id)
        lines = data.get("lines")
        if isinstance(lines, list):
            data["lines"] = [_quantity_from_text(line) for line in lines]
        if isinstance(data.get("manual_discount"), dict):
            data["manual_discount"] = _manual_from_text(data["manual_discount"])
        return data

    def cart(self) -> list[sales.CartLine]:
        return [line.cart_line() for line in self.lines]


def _quantity_from_text(line: Any) -> Any:
    if isinstance(line, dict) and isinstance(line.get("quantity"), str) and \
            _DIGITS.fullmatch(line["quantity"].strip()):
        return {**line, "quantity": int(line["quantity"].strip())}
    return line


def _manual_from_text(manual: dict[str, Any]) -> dict[str, Any]:
    """The checkout's manual discount as typed: `amount` in dollars ("5", "5.00") becomes
    `amount_cents`, `percent` digits a whole number; anything else is left for the model
    to refuse under its own field name."""
    manual = dict(manual)
    amount = manual.pop("amount", None)
    if isinstance(amount, str):
        try:
            manual["amount_cents"] = parse_cents(amount)
        except PosError:
            manual["amount_cents"] = amount
    elif amount is not None:
        manual["amount"] = amount
    percent = manual.get("percent")
    if isinstance(percent, str):
        text = percent.strip().rstrip("%").strip()
        manual["percent"] = int(text) if _DIGITS.fullmatch(text) else percent
    return manual

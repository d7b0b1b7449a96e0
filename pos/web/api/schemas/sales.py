"""A cart, a sale and a refund: one cart model for the API and the desk's checkout."""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from annotated_types import Len
from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from pos.domain import statuses
from pos.domain.errors import PosError
from pos.domain.gift_cards import MAX_AMOUNT_CENTS, MIN_AMOUNT_CENTS
from pos.domain.money import parse_cents
from pos.services import sales
from pos.services.sales import tenders
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


TenderMethod = Literal[tuple(m.value for m in statuses.PaymentMethod)]  # type: ignore[valid-type]
Last4 = Annotated[str, SafeText(4, pattern=r"^[0-9]{4}$", pattern_problem="must be 4 digits")]
AuthCode = Annotated[str, SafeText(20, pattern=r"^[A-Za-z0-9]{1,20}$",
                                   pattern_problem="must be 1-20 letters or digits")]
GiftCode = Annotated[str, SafeText(40)]  # with or without dashes; unknown: 422 unknown_gift_card
MAX_TENDERS = 10
_ABSENT = ""  # what an absent `payment` defaults to, only to be refused


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class TenderIn(StrictModel):
    """One tender: `cash` (`cash_tendered_cents`, a tip), `card` (Stripe Checkout),
    `external_card` (`last4`, `auth_code`), `terminal` (`reader_id`; may carry a tip,
    charged on the reader with the amount), `account_credit` (the sale's client's),
    `gift_card` (`code`, required for it and refused otherwise)."""

    method: TenderMethod
    amount_cents: Cents
    cash_tendered_cents: Cents | None = None
    tip_cents: Cents = 0
    tip_provider_id: Id | None = None
    last4: Last4 | None = None
    auth_code: AuthCode | None = None
    reader_id: Id | None = None
    code: GiftCode | None = None

    @model_validator(mode="after")
    def _fields_of_its_method(self) -> TenderIn:
        if (self.method == "gift_card") != (self.code is not None):
            raise ValueError("code is required for gift_card, and for gift_card only")
        if (self.method == "terminal") != (self.reader_id is not None):
            raise ValueError("reader_id is required for terminal, and for terminal only")
        external = self.method == "external_card"
        if external and (self.last4 is None or self.auth_code is None):
            raise ValueError("an external card payment needs last4 and auth_code")
        if not external and (self.last4 is not None or self.auth_code is not None):
            raise ValueError("last4 and auth_code are for external_card only")
        if self.cash_tendered_cents is not None and self.method != "cash":
            raise ValueError("cash_tendered_cents is for cash only")
        if (self.tip_cents or self.tip_provider_id is not None) and \
                self.method not in ("cash", "terminal"):
            raise ValueError("a tip is taken on cash or terminal only")
        if self.tip_cents and self.tip_provider_id is None:
            raise ValueError("a tip needs tip_provider_id")
        return self

    def tender(self) -> tenders.Tender:
        return tenders.Tender(
            method=self.method, amount_cents=self.amount_cents,
            cash_tendered_cents=self.cash_tendered_cents, tip_cents=self.tip_cents,
            tip_provider_id=self.tip_provider_id if self.tip_cents else None,
            last4=self.last4, auth_code=self.auth_code, reader_id=self.reader_id,
            code=self.code)


class SaleIn(StrictModel):
    """`payment` (one tender of the whole total, v1) or `payments` (tenders adding up to
    the total), not both."""

    model_config = ConfigDict(**StrictModel.model_config, json_schema_extra={
        "oneOf": [{"required": ["payment"]}, {"required": ["payments"]}]})

    client_id: Id | None = None
    lines: Lines
    discount_code: DiscountCode | None = None
    reader_id: Id | None = None  # payment "terminal": the card reader (GET /terminal/readers)
    # Absent: "is required", unless `payments` is given (then it is None).
    payment: PaymentMethod | None = Field(default=_ABSENT, validate_default=True,
                                          json_schema_extra=_no_default)
    payments: Annotated[list[TenderIn], Len(min_length=1, max_length=MAX_TENDERS)] | None = None
    cash_tendered_cents: Cents | None = None
    manual_discount: ManualDiscountIn | None = None
    approval: ApprovalIn | None = None

    @model_validator(mode="before")
    @classmethod
    def _payments_instead(cls, data: Any) -> Any:
        if isinstance(data, dict) and "payments" in data and "payment" not in data:
            return {**data, "payment": None}
        return data

    @field_validator("payment", mode="before")
    @classmethod
    def _payment_required(cls, value: Any) -> Any:
        if value == _ABSENT:
            raise PydanticCustomError("missing", "is required")
        return value

    @model_validator(mode="after")
    def _payment_or_payments(self) -> SaleIn:
        if (self.payment is None) == (self.payments is None):
            raise ValueError("needs exactly one of payment and payments")
        if self.payments is not None and self.cash_tendered_cents is not None:
            raise ValueError("cash_tendered_cents goes on each cash payment")
        return self

    def cart(self) -> list[sales.CartLine]:
        return [line.cart_line() for line in self.lines]


class RefundLineIn(StrictModel):
    """Whole units of a line (`quantity`), or unused sessions of a package line
    (`sessions`): exactly one of them."""

    line_id: Id
    quantity: Quantity | None = None
    sessions: Quantity | None = None

    @model_validator(mode="after")
    def _units_or_sessions(self) -> RefundLineIn:
        if (self.quantity is None) == (self.sessions is None):
            raise ValueError("needs exactly one of quantity and sessions")
        return self


class RefundIn(StrictModel):
    """`amount_cents`: a manager gives back less than the lines' amounts (never more);
    `refund_to`: "credit" puts it on the client's account credit instead of the card or
    the drawer."""

    lines: Annotated[list[RefundLineIn], Len(min_length=1, max_length=sales.MAX_LINES)]
    restock: bool
    reason: Annotated[str, SafeText(500)]
    amount_cents: Cents | None = None
    refund_to: Literal["original", "credit"] = "original"

    def units(self) -> list[tuple[int, int]]:
        return [(line.line_id, line.quantity) for line in self.lines
                if line.quantity is not None]

    def sessions(self) -> list[tuple[int, int]]:
        return [(line.line_id, line.sessions) for line in self.lines
                if line.sessions is not None]


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
    # "split": the sale opens with no tender; the desk adds them on the sale's page.
    payment: PaymentMethod | Literal["split"] | None = None
    reader_id: Id | None = None  # payment "terminal": the reader picked
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
        reader_id = data.get("reader_id")
        if reader_id == "":
            data["reader_id"] = None
        elif isinstance(reader_id, str) and _DIGITS.fullmatch(reader_id):
            data["reader_id"] = int(reader_id)
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

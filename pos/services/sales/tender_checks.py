"""The checks of a tender as asked for, before any row is written, and the tender's row
(split out of pos.services.sales.tenders, which takes tenders; see its docstring)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pos.domain.credit import ClientRequired
from pos.domain.errors import ValidationFailed
from pos.domain.money import format_cents
from pos.domain.statuses import PaymentMethod, PaymentStatus
from pos.models import Payment, Sale, TerminalReader, User
from pos.models.sales import GIFT_CARD_CATEGORY
from pos.services.sales.errors import CashTenderedTooLow

# The methods a desk can take today; the others are refused until they are built.
BUILT_METHODS = (PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.EXTERNAL_CARD,
                 PaymentMethod.TERMINAL, PaymentMethod.ACCOUNT_CREDIT, PaymentMethod.GIFT_CARD)
# The tenders that stay pending while the client pays (one at a time per sale).
PENDING_METHODS = (PaymentMethod.CARD, PaymentMethod.TERMINAL)
# The methods that can carry a tip.
TIPPED_METHODS = (PaymentMethod.CASH, PaymentMethod.TERMINAL)


@dataclass(frozen=True)
class Tender:
    """One tender as asked for (validated by the API's schema or the desk's form)."""

    method: str
    amount_cents: int
    cash_tendered_cents: int | None = None
    tip_cents: int = 0
    tip_provider_id: int | None = None
    last4: str | None = None
    auth_code: str | None = None
    reader_id: int | None = None
    code: str | None = None  # gift_card: the card's code (its row links the card by entry)


class PaymentMethodUnavailable(ValidationFailed):
    code = "payment_method_unavailable"


class GiftCardPaysGiftCard(ValidationFailed):
    """A gift card cannot pay for a sale that sells a gift card (422
    `gift_card_pays_gift_card`): a card is not turned into another card."""

    code = "gift_card_pays_gift_card"


def _check(session: Session, tender: Tender, where: str) -> None:
    def refuse(field: str, message: str) -> None:
        raise ValidationFailed(message[:1].upper() + message[1:] + ".",
                               {"fields": {f"{where}.{field}": message}})

    if tender.method not in BUILT_METHODS:
        raise PaymentMethodUnavailable(
            f"Payment by {tender.method.replace('_', ' ')} is not available at this desk.",
            {"fields": {f"{where}.method": "not available"}})
    if tender.amount_cents <= 0:
        refuse("amount_cents", "must be more than 0")
    if tender.tip_cents and tender.method not in TIPPED_METHODS:
        refuse("tip_cents", "a tip is taken on cash or terminal only")
    if tender.tip_cents and tender.tip_provider_id is None:
        refuse("tip_provider_id", "say which provider the tip goes to")
    if tender.tip_provider_id is not None:
        provider = session.get(User, tender.tip_provider_id)
        if provider is None or not provider.active or not provider.has_role("provider"):
            refuse("tip_provider_id", "must be an active provider")
    if tender.method == PaymentMethod.EXTERNAL_CARD:
        if not re.fullmatch(r"[0-9]{4}", tender.last4 or ""):
            refuse("last4", "the card's last 4 digits are required")
        if not re.fullmatch(r"[A-Za-z0-9]{1,20}", tender.auth_code or ""):
            refuse("auth_code", "the authorization code (1-20 letters or digits) is required")
    if (tender.method == PaymentMethod.GIFT_CARD) != bool(tender.code):
        refuse("code", "the gift card's code is required for gift_card, and for it only")
    if tender.method == PaymentMethod.TERMINAL and tender.reader_id is None:
        refuse("reader_id", "choose the card reader")
    if tender.method == PaymentMethod.CASH and tender.cash_tendered_cents is not None and \
            tender.cash_tendered_cents < tender.amount_cents + tender.tip_cents:
        owed = tender.amount_cents + tender.tip_cents
        raise CashTenderedTooLow(
            f"{format_cents(tender.cash_tendered_cents)} tendered is less than the cash "
            f"owed, {format_cents(owed)}.",
            {"cash_tendered_cents": tender.cash_tendered_cents, "total_cents": owed})


def _row(tender: Tender) -> Payment:
    """The tender's row: pending for a card or a reader (the client pays next),
    succeeded otherwise."""
    pending = tender.method in PENDING_METHODS
    return Payment(method=tender.method, amount_cents=tender.amount_cents,
                   status=PaymentStatus.PENDING if pending else PaymentStatus.SUCCEEDED,
                   tip_cents=tender.tip_cents,
                   tip_provider_id=tender.tip_provider_id if tender.tip_cents else None,
                   cash_tendered_cents=tender.cash_tendered_cents
                   if tender.method == PaymentMethod.CASH else None,
                   last4=tender.last4 if tender.method == PaymentMethod.EXTERNAL_CARD else None,
                   auth_code=tender.auth_code
                   if tender.method == PaymentMethod.EXTERNAL_CARD else None,
                   reader_id=tender.reader_id if tender.method == PaymentMethod.TERMINAL
                   else None)


def _reader_of(session: Session, location_id: int, tender: Tender) -> str | None:
    """A terminal tender's reader must be one of the sale's location (checked before any
    row is written); its gateway, which becomes the sale's. None for other tenders."""
    from pos.services.sales.terminal import UnknownReader

    if tender.method != PaymentMethod.TERMINAL:
        return None
    reader = session.get(TerminalReader, tender.reader_id)
    if reader is None or reader.location_id != location_id:
        raise UnknownReader(f"There is no card reader {tender.reader_id} here.",
                            {"fields": {"reader_id": "not a reader of this location"}})
    return reader.gateway


def _needs_client(sale: Sale, tender: Tender) -> None:
    """What a tender needs of the sale: a client for credit; no gift card line for a gift
    card (checked once the sale's lines exist, before the tender is taken)."""
    if tender.method == PaymentMethod.GIFT_CARD and \
            any(line.category == GIFT_CARD_CATEGORY for line in sale.lines):
        raise GiftCardPaysGiftCard(
            "A gift card cannot pay for a gift card: take another payment for this sale.",
            {"fields": {"method": "not for a sale of a gift card"}})
    if tender.method == PaymentMethod.ACCOUNT_CREDIT and sale.client_id is None:
        raise ClientRequired("Account credit is a client's: choose the sale's client first.",
                             {"fields": {"client_id": "required to pay with account credit"}})

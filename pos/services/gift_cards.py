"""Gift cards as a gateway of their own (saleor's giftcard/gateway.py): issue, look up,
redeem, give a redemption back, refund what is unspent.

Every service here runs inside its caller's transaction (the sale's, the tender's, the
refund's) and never commits. A change of balance locks the card's row FOR UPDATE, appends
an entry and moves the cached `balance_cents` in the same flush; the row lock makes two
redemptions of one card at two desks queue (PostgreSQL), BEGIN IMMEDIATE does it on
SQLite, and the CHECK `balance_cents >= 0` refuses an overdraft whatever got past them.
Only one row is ever locked per call, so there is no lock order to keep.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.errors import PosError, ValidationFailed
from pos.domain.gift_cards import (
    MAX_AMOUNT_CENTS,
    MIN_AMOUNT_CENTS,
    GiftCardEntryKind,
    grouped,
    masked,
    new_code,
    normalise_code,
)
from pos.domain.money import format_cents
from pos.models import GiftCard, GiftCardEntry, OutboxMessage, Sale
from pos.models.sales import GIFT_CARD_CATEGORY
from pos.services.clinic import clinic_settings
from pos.settings import settings_for


class UnknownGiftCard(PosError):
    """No card has this code (also when the text cannot be a code at all)."""

    code = "unknown_gift_card"
    status = 422


class GiftCardNotFound(UnknownGiftCard):
    """The balance look-up's answer: the code names nothing there is to show."""

    status = 404


class GiftCardBalanceTooLow(PosError):
    code = "gift_card_balance_too_low"
    status = 422


@dataclass(frozen=True)
class EntryView:
    kind: str
    amount_cents: int
    sale_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class BalanceView:
    code_masked: str
    balance_cents: int
    initial_cents: int
    history: list[EntryView]


def _find(session: Session, code: str, *, lock: bool,
          error: type[UnknownGiftCard] = UnknownGiftCard) -> GiftCard:
    stored = normalise_code(code) if isinstance(code, str) else None
    card = None
    if stored is not None:
        query = select(GiftCard).where(GiftCard.code == stored)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        card = session.scalar(query)
    if card is None:
        raise error("No gift card has this code.", {"fields": {"code": "unknown gift card"}})
    return card


def _append(session: Session, card: GiftCard, kind: GiftCardEntryKind, amount_cents: int, *,
            sale_id: int | None, payment_id: int | None, user_id: int | None) -> None:
    card.balance_cents += amount_cents
    session.add(GiftCardEntry(gift_card_id=card.id, amount_cents=amount_cents, kind=kind,
                              sale_id=sale_id, payment_id=payment_id, created_by_id=user_id))
    session.flush()


def check_amount(amount_cents: int) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or \
            not MIN_AMOUNT_CENTS <= amount_cents <= MAX_AMOUNT_CENTS:
        raise ValidationFailed(
            "A gift card is sold for $1.00 to $1,000.00.",
            {"fields": {"amount_cents": f"must be {MIN_AMOUNT_CENTS} to {MAX_AMOUNT_CENTS}"}})


def prepare(session: Session, amount_cents: int, *, sale_line_id: int | None,
            recipient_email: str | None = None) -> GiftCard:
    """The card a gift card line will issue, created with the line: its code is drawn, its
    balance is 0 (nothing to spend) until `issue_for_paid_sale` issues it."""
    check_amount(amount_cents)
    while True:
        code = new_code()
        # 2**80 codes: a clash is all but impossible, but a unique index would turn one
        # into a 500; a savepoint lets us draw again.
        with session.begin_nested():
            card = GiftCard(code=code, initial_cents=amount_cents, balance_cents=0,
                            sold_on_sale_line_id=sale_line_id, recipient_email=recipient_email)
            session.add(card)
            try:
                session.flush()
            except IntegrityError:
                if session.scalar(select(func.count()).select_from(GiftCard)
                                  .where(GiftCard.code == code)):
                    continue
                raise
        return card


def _activate(session: Session, card: GiftCard, *, sale_id: int | None,
              user_id: int | None) -> None:
    _append(session, card, GiftCardEntryKind.ISSUE, card.initial_cents, sale_id=sale_id,
            payment_id=None, user_id=user_id)
    if card.recipient_email:
        _queue_recipient_email(session, card)


def issue(session: Session, amount_cents: int, *, sale_line_id: int | None,
          sale_id: int | None, user_id: int | None,
          recipient_email: str | None = None) -> GiftCard:
    """A new card worth `amount_cents`, issued at once. A recipient is mailed the code
    (through the outbox, so only if the transaction commits): the code, the amount and
    the clinic's name, nothing about the buyer."""
    card = prepare(session, amount_cents, sale_line_id=sale_line_id,
                   recipient_email=recipient_email)
    _activate(session, card, sale_id=sale_id, user_id=user_id)
    return card


def issue_for_paid_sale(session: Session, sale: Sale) -> int:
    """In the transaction that marks the sale paid (records.mark_paid): each gift card
    line's card gets its `issue` entry (its balance) and its recipient their email.
    Twice is once: a card already issued is left alone. The number of cards issued."""
    line_ids = [line.id for line in sale.lines if line.category == GIFT_CARD_CATEGORY]
    if not line_ids:
        return 0
    issued = 0
    cards = session.scalars(select(GiftCard).where(GiftCard.sold_on_sale_line_id.in_(line_ids))
                            .order_by(GiftCard.id).with_for_update()).all()
    for card in cards:
        already = session.scalar(select(func.count()).select_from(GiftCardEntry).where(
            GiftCardEntry.gift_card_id == card.id,
            GiftCardEntry.kind == GiftCardEntryKind.ISSUE))
        if not already:
            _activate(session, card, sale_id=sale.id, user_id=sale.sold_by_id)
            issued += 1
    return issued


def _queue_recipient_email(session: Session, card: GiftCard) -> None:
    clinic = clinic_settings(session)
    amount = format_cents(card.initial_cents, settings_for(session).currency)
    session.add(OutboxMessage(
        channel="email", topic="gift_card", dedupe_key=f"gift_card:{card.id}",
        recipients=card.recipient_email or "",
        subject=f"A {amount} gift card for {clinic.clinic_name}",
        body=(f"You have been given a {amount} gift card for {clinic.clinic_name}.\n\n"
              f"Your code: {grouped(card.code)}\n\n"
              "Show this code at the front desk to pay with it. It does not expire.\n"),
        attachments=[]))


def balance(session: Session, code: str) -> BalanceView:
    """The balance page's and GET /api/v1/gift-cards/{code}'s answer (the code masked)."""
    card = _find(session, code, lock=False, error=GiftCardNotFound)
    entries = session.scalars(select(GiftCardEntry).where(GiftCardEntry.gift_card_id == card.id)
                              .order_by(GiftCardEntry.id)).all()
    return BalanceView(
        code_masked=masked(card.code), balance_cents=card.balance_cents,
        initial_cents=card.initial_cents,
        history=[EntryView(kind=e.kind, amount_cents=e.amount_cents, sale_id=e.sale_id,
                           created_at=e.created_at) for e in entries])


def redeem(session: Session, code: str, amount_cents: int, *, sale_id: int | None,
           payment_id: int | None, user_id: int | None) -> int:
    """Spend `amount_cents` of the card as a tender; the balance left.

    Raises UnknownGiftCard (422 `unknown_gift_card`) or GiftCardBalanceTooLow (422
    `gift_card_balance_too_low`, the balance in its details)."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents < 1:
        raise ValidationFailed("A gift card pays an amount of at least 1 cent.",
                               {"fields": {"amount_cents": "must be at least 1"}})
    card = _find(session, code, lock=True)
    if amount_cents > card.balance_cents:
        raise GiftCardBalanceTooLow(
            f"The gift card has only {card.balance_cents} cents left.",
            {"balance_cents": card.balance_cents, "requested_cents": amount_cents})
    _append(session, card, GiftCardEntryKind.REDEEM, -amount_cents, sale_id=sale_id,
            payment_id=payment_id, user_id=user_id)
    return card.balance_cents


def reverse_redemption(session: Session, payment_id: int, *,
                       user_id: int | None = None) -> int:
    """Give back to the card what the tender `payment_id` took from it (its refund, or
    the sale abandoned); the cents given back. Twice is once: what is already reversed
    is not reversed again, and a tender that redeemed nothing gives back 0."""
    entries = session.scalars(select(GiftCardEntry).where(GiftCardEntry.payment_id == payment_id)
                              .order_by(GiftCardEntry.id)).all()
    if not entries:
        return 0
    card = session.scalar(select(GiftCard).where(GiftCard.id == entries[0].gift_card_id)
                          .with_for_update().execution_options(populate_existing=True))
    assert card is not None
    # Re-read under the lock: a reversal racing this one has committed its entry by now.
    taken = -int(session.scalar(select(func.coalesce(func.sum(GiftCardEntry.amount_cents), 0))
                                .where(GiftCardEntry.payment_id == payment_id)) or 0)
    if taken <= 0:
        return 0
    _append(session, card, GiftCardEntryKind.REVERSE, taken, sale_id=entries[0].sale_id,
            payment_id=payment_id, user_id=user_id)
    return taken


def give_back(session: Session, payment_id: int, cents: int, *, sale_id: int | None,
              user_id: int | None) -> int:
    """A refund's share of the gift card tender `payment_id` goes back onto its card (a
    `reverse` entry naming the tender), never more than the tender still has taken; the
    cents given back."""
    first = session.scalar(select(GiftCardEntry).where(GiftCardEntry.payment_id == payment_id)
                           .order_by(GiftCardEntry.id).limit(1))
    if first is None or cents <= 0:
        return 0
    card = session.scalar(select(GiftCard).where(GiftCard.id == first.gift_card_id)
                          .with_for_update().execution_options(populate_existing=True))
    assert card is not None
    taken = -int(session.scalar(select(func.coalesce(func.sum(GiftCardEntry.amount_cents), 0))
                                .where(GiftCardEntry.payment_id == payment_id)) or 0)
    back = min(cents, taken)
    if back <= 0:
        return 0
    _append(session, card, GiftCardEntryKind.REVERSE, back, sale_id=sale_id,
            payment_id=payment_id, user_id=user_id)
    return back


def refund_unspent(session: Session, sale_line_id: int, *, sale_id: int | None,
                   user_id: int | None) -> int:
    """The refund of a sold gift card's line: the card's unspent balance goes back (the
    card falls to 0 with a `refund` entry); what was spent stays spent. The cents the
    card gives back (0: nothing left, or no card was issued for this line)."""
    card = session.scalar(select(GiftCard).where(GiftCard.sold_on_sale_line_id == sale_line_id)
                          .with_for_update().execution_options(populate_existing=True))
    if card is None or card.balance_cents == 0:
        return 0
    unspent = card.balance_cents
    _append(session, card, GiftCardEntryKind.REFUND, -unspent, sale_id=sale_id,
            payment_id=None, user_id=user_id)
    return unspent


def code_for_receipt(session: Session, sale_line_id: int) -> str | None:
    """The whole code, grouped: only for the sale that sold it (its JSON and receipt)."""
    code = session.scalar(select(GiftCard.code)
                          .where(GiftCard.sold_on_sale_line_id == sale_line_id))
    return grouped(code) if code else None

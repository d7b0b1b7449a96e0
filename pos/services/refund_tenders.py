"""How a refund's money goes back to the tenders that paid the sale (API.md "In-person and
mixed payments"): a sale of one cash, card or terminal tender gives the whole refund back to
it; a split sale shares the refund out over its succeeded tenders in REFUND_ORDER, after what
its earlier refunds took, so no tender is ever given back more than it paid. The card and
terminal shares go through the gateway (pos.services.refunds); cash leaves the drawer; an
account-credit share goes back to the client's credit, never to cash; a gift card share goes
back onto the card that paid it (a `reverse` entry naming that tender, so the card's ledger
says which redemption it undoes and never gives back more than it took).
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos.domain.statuses import DrawerEntryKind, PaymentMethod, PaymentStatus, RefundStatus
from pos.models import Payment, Refund, Sale
from pos.services import credit, drawers, gift_cards


def give_back(session: Session, sale: Sale, refund: Refund, cash_cents: int,
              credit_cents: int, user_id: int | None,
              gift_parts: list[tuple[int, int]] | None = None) -> None:
    """The shares that do not go through the gateway: cash out of the drawer, an account
    credit share back to the client's credit (never to cash), each gift card share
    (tender id, cents) back onto its card."""
    cash_out(session, sale, refund, cash_cents, user_id)
    for payment_id, cents in gift_parts or []:
        gift_cards.give_back(session, payment_id, cents, sale_id=sale.id, user_id=user_id)
    if credit_cents > 0:
        assert sale.client_id is not None
        credit.issue_credit(session, sale.client_id, credit_cents,
                            reason=f"Refund of sale {sale.id}", refund_id=refund.id,
                            user_id=user_id)


def cash_out(session: Session, sale: Sale, refund: Refund, cash_cents: int,
              user_id: int | None) -> None:
    """The cash leaves the open drawer (or one opened for it): after the sale's lock."""
    if cash_cents > 0:
        drawer_id = drawers.drawer_for_cash(session, sale.location_id, user_id)
        drawers.add_entry(session, drawer_id, DrawerEntryKind.CASH_REFUND,
                          cash_cents, user_id=user_id, refund_id=refund.id)


# The order a refund of several tenders gives money back in: the card through Stripe
# first, then the external card machine (recorded: the desk refunds it on the machine),
# cash last (out of the drawer).
REFUND_ORDER = (PaymentMethod.CARD, PaymentMethod.TERMINAL, PaymentMethod.EXTERNAL_CARD,
                PaymentMethod.ACCOUNT_CREDIT, PaymentMethod.GIFT_CARD, PaymentMethod.CASH)
# The tenders whose share goes back through the payment gateway.
GATEWAY_METHODS = (PaymentMethod.CARD, PaymentMethod.TERMINAL)
# A sale paid by one tender of these gives the whole refund back to it.
SINGLE_TENDER_METHODS = (PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.TERMINAL)


def tender_shares(session: Session, sale: Sale, refund: Refund) -> dict[str, int]:
    """{method: cents} of this refund (`tender_parts` summed by method)."""
    shares: dict[str, int] = {}
    for tender, cents in tender_parts(session, sale, refund):
        shares[tender.method] = shares.get(tender.method, 0) + cents
    return shares


def tender_parts(session: Session, sale: Sale, refund: Refund) -> list[tuple[Payment, int]]:
    """[(tender, cents)] of this refund, taken from the sale's succeeded tenders in
    REFUND_ORDER after what its earlier refunds (succeeded or pending) already took, so
    refunds in any number of steps never give a tender back more than it paid."""
    before = session.scalar(select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
        Refund.sale_id == sale.id, Refund.id != refund.id, Refund.to_credit.is_(False),
        Refund.status.in_((RefundStatus.SUCCEEDED, RefundStatus.PENDING)))) or 0
    paid = [tender for tender in sale.payments if tender.status == PaymentStatus.SUCCEEDED]
    paid.sort(key=lambda t: (REFUND_ORDER.index(PaymentMethod(t.method))
                             if t.method in REFUND_ORDER else len(REFUND_ORDER), t.id))
    parts: list[tuple[Payment, int]] = []
    start, end, edge = int(before), int(before) + refund.amount_cents, 0
    for tender in paid:
        low, high = edge, edge + tender.amount_cents
        edge = high
        taken = max(0, min(end, high) - max(start, low))
        if taken:
            parts.append((tender, taken))
    return parts

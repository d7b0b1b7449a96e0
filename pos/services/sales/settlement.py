"""Settling card payments: the gateway's events, late payments, automatic refunds.

The payment lands through `fulfil_checkout()` (webhook, demo page, sweep or
reconciliation: all the same code), which is idempotent: each event id is processed once,
the sale row is locked, and a sale already paid is left alone, so events may come twice,
concurrently, late or out of order.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.statuses import PaymentMethod, PaymentStatus, RefundStatus, SaleStatus
from pos.extensions import db
from pos.models import DiscountCode, Payment, Refund, Sale
from pos.payments.gateway import (
    EVENT_ASYNC_PAYMENT_FAILED,
    EVENT_ASYNC_PAYMENT_SUCCEEDED,
    EVENT_CHECKOUT_COMPLETED,
    EVENT_CHECKOUT_EXPIRED,
    CheckoutSession,
    GatewayError,
    PaymentEvent,
)
from pos.services import audit, ledger
from pos.services.sales import tenders
from pos.services.sales.records import (
    claim_event,
    close_unpaid,
    held_quantities,
    lock_sale,
    mark_paid,
    payment_gateway,
    sale_id_of_session,
    take_stock,
    tender_of_session,
)
from pos.services.transaction import write_transaction
from pos.settings import settings_for

log = logging.getLogger("pos.sales")


def expire_checkout_sale(sale_id: int | None = None, *, session_id: str | None = None,
                         event_id: str | None = None, user_id: int | None = None) -> str:
    """The checkout expired: release the hold, status `expired` (only from awaiting_payment)."""
    return _end_unpaid(SaleStatus.EXPIRED, "sale.expired", EVENT_CHECKOUT_EXPIRED,
                       sale_id, session_id, event_id, user_id)


def fail_checkout_sale(sale_id: int | None = None, *, session_id: str | None = None,
                       event_id: str | None = None, user_id: int | None = None) -> str:
    """The payment failed: release the hold, status `failed` (only from awaiting_payment)."""
    return _end_unpaid(SaleStatus.FAILED, "sale.payment_failed", EVENT_ASYNC_PAYMENT_FAILED,
                       sale_id, session_id, event_id, user_id)


def _end_unpaid(status: SaleStatus, action: str, event_type: str, sale_id: int | None,
                session_id: str | None, event_id: str | None, user_id: int | None) -> str:
    sale_id = sale_id if sale_id is not None else sale_id_of_session(session_id)
    if sale_id is None:
        return "unknown_sale"
    return close_unpaid(sale_id, status, user_id, action=action, event_id=event_id,
                        event_type=event_type)


def not_the_sales_own(*, stored_session_id: str | None, session_id: str,
                      metadata_sale_id: int | None, sale_id: int, currency: str | None,
                      expected_currency: str) -> str | None:
    """Why a paid Checkout Session cannot pay this sale, or None when it is the sale's own.

    The sale's own session is the one stored on its card tender. Before one is stored (the
    instant between creating it at Stripe and storing it, when a fast webhook can arrive)
    the session that names the sale in its metadata is taken as its own, as it always was.
    A session without a currency is the demo gateway's (Stripe always states one).
    """
    if stored_session_id is not None and stored_session_id != session_id:
        return "session_not_the_sales_own"
    if metadata_sale_id is not None and metadata_sale_id != sale_id:
        return "sale_id_mismatch"
    if currency is not None and currency.lower() != expected_currency.lower():
        return "currency_mismatch"
    return None


# -- fulfilment --------------------------------------------------------------------------

@dataclass(frozen=True)
class _AutoRefund:
    refund_id: int
    payment_intent_id: str
    amount_cents: int
    gateway: str | None


def fulfil_checkout(checkout: CheckoutSession, event_id: str | None,
                    event_type: str = EVENT_CHECKOUT_COMPLETED) -> str:
    """Settle a paid Checkout Session; idempotent. Returns what happened: "paid",
    "duplicate", "already_paid", "not_paid", "flagged", "refunded", "unknown_sale"..."""
    try:
        outcome, auto_refund = _fulfil_transaction(checkout, event_id, event_type)
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    if auto_refund is not None:  # committed: now, and only now, call the gateway
        _send_auto_refund(auto_refund)
    return outcome


def _fulfil_transaction(checkout: CheckoutSession, event_id: str | None,
                        event_type: str) -> tuple[str, _AutoRefund | None]:
    with write_transaction() as session:
        if event_id is not None and not claim_event(session, event_id, event_type):
            return "duplicate", None
        # The sale is found through the session the app stored; metadata only before then.
        tender = tender_of_session(session, checkout.id)
        sale_id = tender.sale_id if tender is not None else checkout.sale_id
        sale = lock_sale(session, sale_id) if sale_id is not None else None
        if sale is None:
            return "unknown_sale", None
        if not checkout.is_paid:
            return "not_paid", None  # e.g. completed with a delayed payment method
        card = tender if tender is not None and tender.sale_id == sale.id else \
            sale.card_payment
        if card is None:
            return "ignored", None  # a cash sale: nothing to settle
        problem = not_the_sales_own(
            stored_session_id=card.checkout_session_id, session_id=checkout.id,
            metadata_sale_id=checkout.sale_id, sale_id=sale.id, currency=checkout.currency,
            expected_currency=settings_for(session).currency)
        if problem is None and sale.status == SaleStatus.PAID:
            return "already_paid", None
        if card.checkout_session_id in (None, checkout.id):
            # The sale's own session was paid (accepted or not): its tender records how.
            card.checkout_session_id = checkout.id
            card.payment_intent_id = checkout.payment_intent_id or card.payment_intent_id
            card.last4 = checkout.card_last4 or card.last4
            card.card_brand = checkout.card_brand or card.card_brand
        if problem is not None:
            return _flag_foreign_payment(session, sale, checkout, problem), None
        if tenders.is_split(sale) and sale.status == SaleStatus.AWAITING_PAYMENT and \
                checkout.amount_total_cents == card.amount_cents:
            if card.status == PaymentStatus.PENDING or card.amount_cents <= sale.balance_cents:
                # One tender of several: the sale is paid when they all are.
                return tenders.settle_card_tender(session, sale, card), None
            # Paid after its tender ended and another took its place: a manager refunds it.
            sale.flag = (f"card payment {checkout.id} came after its tender ended and the "
                         "balance was taken another way; refund it")[:200]
            audit.record(session, None, "sale.flag", "sale", sale.id, flag="tender_paid_late",
                         checkout_session_id=checkout.id,
                         payment_intent_id=checkout.payment_intent_id)
            return "flagged", None
        if card.status == PaymentStatus.SUCCEEDED and tenders.is_split(sale):
            return "already_paid", None
        if checkout.amount_total_cents != card.amount_cents:
            # Not accepted as payment: a manager looks at it (and refunds it if need be).
            sale.flag = (f"amount mismatch: paid {checkout.amount_total_cents} cents, "
                         f"total {card.amount_cents} cents")[:200]
            audit.record(session, None, "sale.flag", "sale", sale.id,
                         flag="amount_mismatch", paid_cents=checkout.amount_total_cents,
                         total_cents=sale.total_cents)
            return "flagged", None
        if sale.status == SaleStatus.AWAITING_PAYMENT:
            take_stock(session, sale, from_hold=True)
        else:
            # Paid after the hold was released (expired, failed or void).
            outcome, auto_refund = _settle_late_payment(session, sale, checkout)
            if outcome != "paid":
                return outcome, auto_refund
        card.status = PaymentStatus.SUCCEEDED
        audit.record(session, None, "sale.paid", "sale", sale.id, method=PaymentMethod.CARD,
                     total_cents=sale.total_cents)
        mark_paid(session, sale)  # the receipt number: the transaction's last write
        return "paid", None


def _flag_foreign_payment(session: Session, sale: Sale, checkout: CheckoutSession,
                          problem: str) -> str:
    """Money paid through a session that is not the sale's own (another sale's, another
    installation's) or in another currency: recorded, with the ids a manager needs to
    refund it, and flagged. The sale stays as it was, so its own session can still pay it
    (by its webhook, or by the sweep and reconciliation, which still look at the sale)."""
    sale.flag = (f"{problem.replace('_', ' ')}: session {checkout.id} paid "
                 f"{checkout.amount_total_cents} {checkout.currency or ''}; refund it")[:200]
    audit.record(session, None, "sale.flag", "sale", sale.id, flag=problem,
                 checkout_session_id=checkout.id, payment_intent_id=checkout.payment_intent_id,
                 paid_cents=checkout.amount_total_cents, currency=checkout.currency)
    return "flagged"


# Why a late payment of a sale ended on purpose is refused (flagged and refunded).
_ENDED_ON_PURPOSE = {SaleStatus.VOID: "paid after sale was voided",
                     SaleStatus.CANCELLED: "paid after sale was cancelled"}


def _settle_late_payment(session: Session, sale: Sale,
                         checkout: CheckoutSession) -> tuple[str, _AutoRefund | None]:
    """A payment for a sale whose hold is gone: sell if the stock is still there (and the
    sale was not ended on purpose: voided, or cancelled at the desk, where the client may
    well have paid another way), else flag it and refund the client automatically."""
    if sale.status not in _ENDED_ON_PURPOSE:
        stocks = ledger.lock_items(session, held_quantities(sale), sale.location_id)
        short = [item_id for item_id, qty in held_quantities(sale).items()
                 if stocks[item_id].available < qty]
        if not short:
            if sale.discount_code_id is not None:
                discount = session.get(DiscountCode, sale.discount_code_id)
                if discount is not None:
                    discount.times_used += 1  # given back when it expired; used after all
            take_stock(session, sale, from_hold=False)
            sale.closed_at = None
            audit.record(session, None, "sale.paid_late", "sale", sale.id,
                         previous_status=sale.status)
            return "paid", None
    reason = _ENDED_ON_PURPOSE.get(SaleStatus(sale.status), "paid after hold expired")
    if not checkout.payment_intent_id:
        sale.flag = f"{reason}; refund by hand (no payment reference)"[:200]
        audit.record(session, None, "sale.flag", "sale", sale.id, flag="paid_late_no_intent")
        return "flagged", None
    sale.flag = f"{reason}; refunded automatically"[:200]
    card = sale.card_payment
    if card is not None:
        card.status = PaymentStatus.REFUNDED  # the money came in and goes straight back
    refund = Refund(sale_id=sale.id, location_id=sale.location_id,
                    amount_cents=checkout.amount_total_cents or sale.total_cents,
                    tax_cents=sale.tax_cents, reason=reason,
                    method=PaymentMethod.TERMINAL if sale.payment_method ==
                    PaymentMethod.TERMINAL else PaymentMethod.CARD,
                    status=RefundStatus.PENDING)
    session.add(refund)
    session.flush()
    audit.record(session, None, "sale.flag", "sale", sale.id, flag="paid_after_hold_expired",
                 refund_id=refund.id, amount_cents=refund.amount_cents)
    return "refunded", _AutoRefund(refund.id, checkout.payment_intent_id, refund.amount_cents,
                                   sale.gateway)


def _send_auto_refund(todo: _AutoRefund) -> None:
    from pos.payments.factory import gateway_named

    try:
        refund_id = gateway_named(todo.gateway).refund(
            todo.payment_intent_id, todo.amount_cents, f"refund-{todo.refund_id}")
    except GatewayError as error:
        log.warning("automatic refund %s failed: %s", todo.refund_id, error)
        refund_id, status = None, RefundStatus.FAILED
    else:
        status = RefundStatus.SUCCEEDED
    with write_transaction() as session:
        refund = session.get(Refund, todo.refund_id)
        if refund is not None and refund.status == RefundStatus.PENDING:
            refund.status = status
            refund.gateway_refund_id = refund_id
            audit.record(session, None, f"refund.{status}", "refund", refund.id,
                         sale_id=refund.sale_id, amount_cents=refund.amount_cents,
                         automatic=True)


def retry_pending_auto_refunds() -> int:
    """Send again the automatic refunds whose gateway call failed or never happened."""
    retry = (RefundStatus.PENDING, RefundStatus.FAILED)
    rows = db.session.execute(
        select(Refund.id, Payment.payment_intent_id, Refund.amount_cents, Sale.gateway)
        .join(Sale, Sale.id == Refund.sale_id)
        .join(Payment, (Payment.sale_id == Sale.id)
              & Payment.method.in_((PaymentMethod.CARD, PaymentMethod.TERMINAL)))
        .where(Refund.status.in_(retry), Sale.status != SaleStatus.PAID,
               Payment.payment_intent_id.is_not(None))).all()
    db.session.rollback()
    for refund_id, intent, amount, gateway in rows:
        with write_transaction() as session:
            refund = session.get(Refund, refund_id)
            if refund is None or refund.status not in retry:
                continue
            refund.status = RefundStatus.PENDING
        _send_auto_refund(_AutoRefund(refund_id, intent, amount, gateway))
    return len(rows)


def _with_card_details(checkout: CheckoutSession) -> CheckoutSession:
    """An event's session does not carry the card's last 4 digits nor its brand (Stripe does
    not expand them): ask, outside any transaction, best effort (the receipt shows them)."""
    if not checkout.is_paid or checkout.card_last4:
        return checkout
    try:
        fuller = payment_gateway().retrieve_checkout(checkout.id)
    except GatewayError as error:
        log.info("card details of %s not available: %s", checkout.id, error)
        return checkout
    if fuller.id != checkout.id or not fuller.card_last4:
        return checkout
    return CheckoutSession(**{**checkout.__dict__, "card_last4": fuller.card_last4,
                              "card_brand": fuller.card_brand})


def handle_payment_event(event: PaymentEvent) -> str:
    """Apply a verified gateway event (webhook or demo page)."""
    if event.type in (EVENT_CHECKOUT_COMPLETED, EVENT_ASYNC_PAYMENT_SUCCEEDED):
        return fulfil_checkout(_with_card_details(event.session), event.id, event.type)
    # An ending session ends only the sale that stored it: the metadata of a session that
    # is not the sale's own must not release that sale's hold.
    sale_id = sale_id_of_session(event.session.id)
    db.session.rollback()
    if event.type == EVENT_CHECKOUT_EXPIRED:
        return expire_checkout_sale(sale_id, session_id=event.session.id, event_id=event.id)
    if event.type == EVENT_ASYNC_PAYMENT_FAILED:
        return fail_checkout_sale(sale_id, session_id=event.session.id, event_id=event.id)
    return "ignored"

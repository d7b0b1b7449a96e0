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

from pos.extensions import db
from pos.models import (
    DiscountCode,
    Refund,
    Sale,
)
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
from pos.services.sales.records import (
    claim_event,
    close_unpaid,
    held_quantities,
    lock_sale,
    mark_paid,
    payment_gateway,
    sale_id_for,
    take_stock,
)
from pos.services.transaction import write_transaction

log = logging.getLogger("pos.sales")


def expire_checkout_sale(sale_id: int | None = None, *, session_id: str | None = None,
                         event_id: str | None = None, user_id: int | None = None) -> str:
    """The checkout expired: release the hold, status `expired` (only from awaiting_payment)."""
    sale_id = sale_id if sale_id is not None else lookup_by_session(session_id)
    if sale_id is None:
        return "unknown_sale"
    return close_unpaid(sale_id, "expired", user_id, action="sale.expired", event_id=event_id,
                         event_type=EVENT_CHECKOUT_EXPIRED)


def fail_checkout_sale(sale_id: int | None = None, *, session_id: str | None = None,
                       event_id: str | None = None, user_id: int | None = None) -> str:
    """The payment failed: release the hold, status `failed` (only from awaiting_payment)."""
    sale_id = sale_id if sale_id is not None else lookup_by_session(session_id)
    if sale_id is None:
        return "unknown_sale"
    return close_unpaid(sale_id, "failed", user_id, action="sale.payment_failed",
                         event_id=event_id, event_type=EVENT_ASYNC_PAYMENT_FAILED)


def lookup_by_session(session_id: str | None) -> int | None:
    if not session_id:
        return None
    return db.session.scalar(select(Sale.id).where(Sale.checkout_session_id == session_id))


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
        sale_id = checkout.sale_id
        if sale_id is None:
            sale_id = session.scalar(select(Sale.id).where(
                Sale.checkout_session_id == checkout.id))
        sale = lock_sale(session, sale_id) if sale_id is not None else None
        if sale is None:
            return "unknown_sale", None
        if not checkout.is_paid:
            return "not_paid", None  # e.g. completed with a delayed payment method
        if sale.status == "paid":
            return "already_paid", None
        if sale.payment_method != "card":
            return "ignored", None
        if sale.checkout_session_id is None:
            sale.checkout_session_id = checkout.id
        sale.payment_intent_id = checkout.payment_intent_id or sale.payment_intent_id
        sale.card_last4 = checkout.card_last4 or sale.card_last4
        if checkout.amount_total_cents != sale.total_cents:
            # Not accepted as payment: a manager looks at it (and refunds it if need be).
            sale.flag = (f"amount mismatch: paid {checkout.amount_total_cents} cents, "
                         f"total {sale.total_cents} cents")[:200]
            audit.record(session, None, "sale.flag", "sale", sale.id,
                         flag="amount_mismatch", paid_cents=checkout.amount_total_cents,
                         total_cents=sale.total_cents)
            return "flagged", None
        if sale.status == "awaiting_payment":
            take_stock(session, sale, from_hold=True)
        else:
            # Paid after the hold was released (expired, failed or void).
            outcome, auto_refund = _settle_late_payment(session, sale, checkout)
            if outcome != "paid":
                return outcome, auto_refund
        audit.record(session, None, "sale.paid", "sale", sale.id, method="card",
                     total_cents=sale.total_cents)
        mark_paid(session, sale)  # the receipt number: the transaction's last write
        return "paid", None


def _settle_late_payment(session: Session, sale: Sale,
                         checkout: CheckoutSession) -> tuple[str, _AutoRefund | None]:
    """A payment for a sale whose hold is gone: sell if the stock is still there (and the
    sale was not voided on purpose), else flag it and refund the client automatically."""
    if sale.status != "void":
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
    reason = "paid after hold expired" if sale.status != "void" else "paid after sale was voided"
    if not checkout.payment_intent_id:
        sale.flag = f"{reason}; refund by hand (no payment reference)"[:200]
        audit.record(session, None, "sale.flag", "sale", sale.id, flag="paid_late_no_intent")
        return "flagged", None
    sale.flag = f"{reason}; refunded automatically"[:200]
    refund = Refund(sale_id=sale.id, location_id=sale.location_id,
                    amount_cents=checkout.amount_total_cents or sale.total_cents,
                    tax_cents=sale.tax_cents, reason=reason, method="card", status="pending")
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
        refund_id, status = None, "failed"
    else:
        status = "succeeded"
    with write_transaction() as session:
        refund = session.get(Refund, todo.refund_id)
        if refund is not None and refund.status == "pending":
            refund.status = status
            refund.gateway_refund_id = refund_id
            audit.record(session, None, f"refund.{status}", "refund", refund.id,
                         sale_id=refund.sale_id, amount_cents=refund.amount_cents,
                         automatic=True)


def retry_pending_auto_refunds() -> int:
    """Send again the automatic refunds whose gateway call failed or never happened."""
    rows = db.session.execute(
        select(Refund.id, Sale.payment_intent_id, Refund.amount_cents, Sale.gateway)
        .join(Sale, Sale.id == Refund.sale_id)
        .where(Refund.status.in_(("pending", "failed")), Sale.status != "paid",
               Sale.payment_intent_id.is_not(None))).all()
    db.session.rollback()
    for refund_id, intent, amount, gateway in rows:
        with write_transaction() as session:
            refund = session.get(Refund, refund_id)
            if refund is None or refund.status not in ("pending", "failed"):
                continue
            refund.status = "pending"
        _send_auto_refund(_AutoRefund(refund_id, intent, amount, gateway))
    return len(rows)


def _with_card_details(checkout: CheckoutSession) -> CheckoutSession:
    """An event's session does not carry the card's last 4 digits (Stripe does not expand
    it): ask for them, outside any transaction, best effort (the receipt shows them)."""
    if not checkout.is_paid or checkout.card_last4:
        return checkout
    try:
        fuller = payment_gateway().retrieve_checkout(checkout.id)
    except GatewayError as error:
        log.info("card details of %s not available: %s", checkout.id, error)
        return checkout
    if fuller.id != checkout.id or not fuller.card_last4:
        return checkout
    return CheckoutSession(**{**checkout.__dict__, "card_last4": fuller.card_last4})


def handle_payment_event(event: PaymentEvent) -> str:
    """Apply a verified gateway event (webhook or demo page)."""
    if event.type in (EVENT_CHECKOUT_COMPLETED, EVENT_ASYNC_PAYMENT_SUCCEEDED):
        return fulfil_checkout(_with_card_details(event.session), event.id, event.type)
    sale_id = sale_id_for(event.session)
    db.session.rollback()
    if event.type == EVENT_CHECKOUT_EXPIRED:
        return expire_checkout_sale(sale_id, session_id=event.session.id, event_id=event.id)
    if event.type == EVENT_ASYNC_PAYMENT_FAILED:
        return fail_checkout_sale(sale_id, session_id=event.session.id, event_id=event.id)
    return "ignored"

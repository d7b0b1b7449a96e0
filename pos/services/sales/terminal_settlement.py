"""Settling a card reader's tender: its events, and reconciliation.

`payment_intent.succeeded` settles the terminal tender ONCE: the event id is claimed (a
repeated delivery is a "duplicate"), the sale row is locked, and a tender already
succeeded is left alone whatever event id comes next (idempotent by PaymentIntent id), so
events may arrive several times, concurrently or out of order. The amount and currency
are checked against the tender; a mismatch is flagged for a manager, never paid.
`terminal.reader.action_failed` / `payment_intent.payment_failed` keep the decline's
message on a tender still pending (never card data); the sale stays awaiting, retryable.
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.statuses import PaymentMethod, PaymentStatus, SaleStatus
from pos.extensions import db
from pos.models import Payment, Sale
from pos.payments.gateway import CheckoutSession, GatewayError
from pos.payments.terminal import (
    EVENT_INTENT_FAILED,
    EVENT_INTENT_SUCCEEDED,
    EVENT_READER_FAILED,
    TerminalEvent,
    TerminalIntent,
)
from pos.services import audit
from pos.services.sales.records import claim_event, lock_sale, mark_paid
from pos.services.sales.settlement import _AutoRefund, _send_auto_refund, _settle_late_payment
from pos.services.sales.tenders import _pay_if_covered
from pos.services.transaction import write_transaction
from pos.settings import settings_for

log = logging.getLogger("pos.sales")

DEFAULT_DECLINE = "The card reader did not take the payment."


def handle_terminal_event(event: TerminalEvent) -> str:
    """Apply a verified terminal event (webhook, or the demo reader's buttons)."""
    if event.type == EVENT_INTENT_SUCCEEDED and event.intent is not None:
        return settle_terminal_intent(_with_card_details(event.intent), event.id, event.type)
    if event.type in (EVENT_READER_FAILED, EVENT_INTENT_FAILED):
        message = event.failure_message or (
            event.intent.error_message if event.intent is not None else None)
        return record_failure(event.payment_intent_id, message or DEFAULT_DECLINE,
                              event.id, event.type)
    return "ignored"  # terminal.reader.action_succeeded: payment_intent.succeeded settles


def _with_card_details(intent: TerminalIntent) -> TerminalIntent:
    """An event's PaymentIntent names its charge without expanding it: ask for the card's
    brand and last 4 (the receipt shows them), outside any transaction, best effort."""
    from pos.services.sales.records import payment_gateway

    if not intent.is_paid or intent.last4:
        return intent
    db.session.rollback()
    try:
        gateway = payment_gateway()
        fuller = gateway.retrieve_terminal_intent(intent.id)  # type: ignore[attr-defined]
    except GatewayError as error:
        log.info("card details of %s not available: %s", intent.id, error)
        return intent
    if fuller.id != intent.id or not fuller.last4:
        return intent
    return TerminalIntent(**{**intent.__dict__, "last4": fuller.last4,
                             "card_brand": fuller.card_brand})


def settle_terminal_intent(intent: TerminalIntent, event_id: str | None,
                           event_type: str = EVENT_INTENT_SUCCEEDED) -> str:
    """"paid", "duplicate", "already_paid", "not_paid", "flagged", "refunded",
    "unknown_payment"."""
    try:
        outcome, auto_refund = _settle(intent, event_id, event_type)
    except IntegrityError:  # a concurrent twin claimed the same event id
        db.session.rollback()
        return "duplicate"
    if auto_refund is not None:  # committed: now, and only now, call the gateway
        _send_auto_refund(auto_refund)
    return outcome


def _tender_of_intent(session: Session, intent_id: str | None,
                      payment_id: int | None) -> Payment | None:
    """The terminal tender that stored this PaymentIntent; before it is stored (a fast
    event in the instant between creating it and storing it), the tender its metadata
    names, if that tender has none yet."""
    if intent_id:
        tender = session.scalar(select(Payment).where(
            Payment.payment_intent_id == intent_id, Payment.method == PaymentMethod.TERMINAL))
        if tender is not None:
            return tender
    if payment_id is not None:
        tender = session.get(Payment, payment_id)
        if tender is not None and tender.method == PaymentMethod.TERMINAL and \
                tender.payment_intent_id is None:
            return tender
    return None


def _locked_tender(session: Session, intent_id: str | None, payment_id: int | None
                   ) -> tuple[Sale, Payment] | None:
    tender = _tender_of_intent(session, intent_id, payment_id)
    if tender is None:
        return None
    sale = lock_sale(session, tender.sale_id)
    assert sale is not None
    locked = session.get(Payment, tender.id, populate_existing=True)
    assert locked is not None
    return sale, locked


def _settle(intent: TerminalIntent, event_id: str | None,
            event_type: str) -> tuple[str, _AutoRefund | None]:
    with write_transaction() as session:
        if event_id is not None and not claim_event(session, event_id, event_type):
            return "duplicate", None
        found = _locked_tender(session, intent.id, intent.payment_id)
        if found is None:
            return "unknown_payment", None  # e.g. a Checkout's own PaymentIntent
        sale, tender = found
        if tender.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
            return "already_paid", None  # settled once, by whichever event came first
        if not intent.is_paid:
            return "not_paid", None
        paid = intent.amount_received_cents or intent.amount_cents
        problem = None
        if intent.sale_id not in (None, sale.id) or intent.payment_id not in (None, tender.id):
            problem = "metadata_mismatch"
        elif intent.currency is not None and \
                intent.currency.lower() != settings_for(session).currency.lower():
            problem = "currency_mismatch"
        elif paid != tender.amount_cents + tender.tip_cents:  # the tip is charged with it
            problem = "amount_mismatch"
        if tender.payment_intent_id is None:
            tender.payment_intent_id = intent.id
        if problem is not None:
            sale.flag = (f"{problem.replace('_', ' ')}: reader payment {intent.id} paid "
                         f"{paid} {intent.currency or ''}, tender {tender.amount_cents}; "
                         "refund it")[:200]
            audit.record(session, None, "sale.flag", "sale", sale.id, flag=problem,
                         payment_intent_id=intent.id, paid_cents=paid,
                         currency=intent.currency)
            return "flagged", None
        tender.last4 = intent.last4 or tender.last4
        tender.card_brand = intent.card_brand or tender.card_brand
        tender.last_error = None
        if sale.status != SaleStatus.AWAITING_PAYMENT:
            # Paid after the sale ended (cancelled at the desk): refunded automatically.
            outcome, auto_refund = _settle_late_payment(session, sale, _as_checkout(intent,
                                                                                  paid))
            if outcome == "refunded":
                tender.status = PaymentStatus.REFUNDED
            if outcome != "paid":
                return outcome, auto_refund
            tender.status = PaymentStatus.SUCCEEDED
            audit.record(session, None, "sale.paid", "sale", sale.id,
                         method=PaymentMethod.TERMINAL, total_cents=sale.total_cents)
            mark_paid(session, sale)
            return "paid", None
        tender.status = PaymentStatus.SUCCEEDED
        audit.record(session, None, "sale.tender", "sale", sale.id, method=tender.method,
                     amount_cents=tender.amount_cents, status=tender.status)
        # One rule with the desk's tenders: paid when the succeeded tenders cover the total.
        paid_now = _pay_if_covered(session, sale, from_hold=True, user_id=None)
        return ("paid" if paid_now else "tender_paid"), None


def _as_checkout(intent: TerminalIntent, paid: int | None) -> CheckoutSession:
    """The late-payment rules (settlement._settle_late_payment) read a CheckoutSession."""
    return CheckoutSession(
        id=intent.id, url=None, status="complete", payment_status="paid",
        amount_total_cents=paid, currency=intent.currency, sale_id=intent.sale_id,
        payment_intent_id=intent.id, card_last4=intent.last4, expires_at=None,
        card_brand=intent.card_brand)


def record_failure(intent_id: str | None, message: str, event_id: str | None,
                   event_type: str) -> str:
    """A decline (or a reader failure): the message on the pending tender; "declined",
    "ignored" (the tender is no longer pending: a late or repeated event), "duplicate"."""
    try:
        with write_transaction() as session:
            if event_id is not None and not claim_event(session, event_id, event_type):
                return "duplicate"
            found = _locked_tender(session, intent_id, None)
            if found is None:
                return "unknown_payment"
            sale, tender = found
            if tender.status != PaymentStatus.PENDING or \
                    sale.status != SaleStatus.AWAITING_PAYMENT:
                return "ignored"
            tender.last_error = message[:300]
            audit.record(session, None, "sale.terminal_declined", "sale", sale.id,
                         payment_id=tender.id)
            return "declined"
    except IntegrityError:
        db.session.rollback()
        return "duplicate"


def reconcile_terminal() -> dict[str, int]:
    """Ask the gateway about every pending reader tender of an awaiting sale and settle
    what was paid (a payment whose event never came). Running it twice changes nothing."""
    from pos.services.sales.terminal import terminal_gateway

    db.session.rollback()
    rows = db.session.execute(
        select(Sale.id, Payment.payment_intent_id, Sale.gateway)
        .join(Payment, Payment.sale_id == Sale.id)
        .where(Sale.status == SaleStatus.AWAITING_PAYMENT,
               Payment.method == PaymentMethod.TERMINAL,
               Payment.status == PaymentStatus.PENDING,
               Payment.payment_intent_id.is_not(None))
        .order_by(Sale.id)).all()
    db.session.rollback()  # no transaction stays open while the gateway is asked
    counts = {"checked": 0, "paid": 0, "open": 0, "flagged": 0, "unchanged": 0, "errors": 0}
    for sale_id, intent_id, gateway_name in rows:
        counts["checked"] += 1
        try:
            intent = terminal_gateway(gateway_name).retrieve_terminal_intent(intent_id)
        except GatewayError as error:
            log.warning("reconcile: reader sale %s not settled: %s", sale_id, error)
            counts["errors"] += 1
            continue
        if not intent.is_paid:
            counts["open"] += 1
            continue
        outcome = settle_terminal_intent(intent, None)
        counts[outcome if outcome in ("paid", "flagged") else "unchanged"] += 1
    return counts

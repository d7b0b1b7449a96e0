"""A sale paid on a Stripe Terminal reader (one tender of the whole total), server-driven.

Selling (no database lock is held while the gateway answers):
1. transaction 1 creates the sale `awaiting_payment`, HOLDS its retail stock, and writes
   its pending `terminal` tender naming the reader;
2. outside any transaction, a card-present PaymentIntent is created for the tender (the
   idempotency key is derived from the tender's row: a retry never makes a second one)
   and handed to the reader with `process_payment_intent`, before the sale is answered;
3. transaction 2 stores the PaymentIntent's id on the tender, and `last_error` when the
   reader was busy or offline (or the provider refused): the sale stays awaiting, the
   answer is still 201 with the error on the tender, and the desk offers "Try again"
   (`retry`) or another way to pay (`cancel`, then a new sale).

The reader's outcome arrives as events (pos/services/sales/terminal_settlement.py).
Cancelling at the desk (pos/services/sales/cancelling.py) calls `stop_collecting` first:
the reader's action is cancelled and the PaymentIntent too; if the client paid a moment
before, the payment is settled and the cancel is refused (409 sale_already_paid).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from pos.domain.errors import PosError, ValidationFailed
from pos.domain.statuses import PaymentMethod, PaymentStatus, SaleStatus
from pos.extensions import db
from pos.models import Payment, Sale, TerminalReader
from pos.payments.gateway import GatewayError
from pos.payments.terminal import TerminalGateway, TerminalIntentRequest
from pos.services import audit, ledger
from pos.services.sales.cart import CartLine, ManualDiscount
from pos.services.sales.records import get_sale, held_quantities, lock_sale
from pos.services.transaction import write_transaction
from pos.settings import Settings

log = logging.getLogger("pos.sales")


class UnknownReader(PosError):
    code = "unknown_reader"
    status = 422


class NothingToRetry(PosError):
    """Not an awaiting sale with a pending reader tender (paid, cancelled, or cash)."""

    code = "terminal_not_retryable"
    status = 409


def terminal_gateway(name: str | None) -> TerminalGateway:
    from pos.payments.factory import gateway_named

    gateway = gateway_named(name)
    assert isinstance(gateway, TerminalGateway)
    return gateway


def sell_terminal(*, client_id: int | None, lines: Sequence[CartLine],
                  discount_code: str | None, user_id: int | None, reader_id: int | None,
                  settings: Settings, manual: ManualDiscount | None = None,
                  location_id: int | None = None) -> Sale:
    from pos.services.sales.selling import _create_sale

    if reader_id is None:
        raise ValidationFailed("Choose the card reader.",
                               {"fields": {"reader_id": "required to pay on a card reader"}})
    with write_transaction() as session:
        location = ledger.location_or_default(session, location_id)
        reader = session.get(TerminalReader, reader_id)
        if reader is None or reader.location_id != location.id:
            raise UnknownReader(f"There is no card reader {reader_id} here.",
                                {"fields": {"reader_id": "not a reader of this location"}})
        sale, stocks, _quote = _create_sale(
            session, client_id=client_id, lines=lines, discount_code=discount_code,
            payment=PaymentMethod.TERMINAL, user_id=user_id, location_id=location.id,
            tender_status=PaymentStatus.PENDING, manual=manual)
        for item_id, quantity in held_quantities(sale).items():
            ledger.place_hold(session, stocks[item_id], quantity, sku=stocks[item_id].item.sku)
        sale.gateway = reader.gateway
        sale.payments[0].reader_id = reader.id
        audit.record(session, user_id, "sale.create", "sale", sale.id,
                     method=PaymentMethod.TERMINAL, total_cents=sale.total_cents,
                     reader_id=reader.id)
        sale_id = sale.id
    hand_to_reader(sale_id, settings.currency)
    db.session.expire_all()
    return get_sale(db.session(), sale_id)


def retry(sale_id: int, user_id: int | None, currency: str) -> Sale:
    """Hand the pending reader tender to its reader again (after a decline, a busy or
    offline reader): the same PaymentIntent."""
    sale = get_sale(db.session(), sale_id)
    tender = sale.terminal_payment
    if sale.status != SaleStatus.AWAITING_PAYMENT or tender is None or \
            tender.status != PaymentStatus.PENDING:
        raise NothingToRetry(
            f"Sale {sale_id} is not waiting for a card reader payment.",
            {"sale_id": sale_id, "status": sale.status})
    db.session.rollback()
    hand_to_reader(sale_id, currency)
    with write_transaction() as session:
        audit.record(session, user_id, "sale.terminal_retry", "sale", sale_id)
    db.session.expire_all()
    return get_sale(db.session(), sale_id)


def hand_to_reader(sale_id: int, currency: str) -> str | None:
    """Create the tender's PaymentIntent if it has none, and hand it to the reader;
    returns the error kept on the tender (None when the reader took it)."""
    session = db.session()
    sale = get_sale(session, sale_id)
    tender = sale.terminal_payment
    if tender is None or tender.reader_id is None or tender.status != PaymentStatus.PENDING \
            or sale.status != SaleStatus.AWAITING_PAYMENT:
        session.rollback()
        return None
    reader = session.get(TerminalReader, tender.reader_id)
    assert reader is not None
    # The tip is charged on the reader with the tender (tenders.py).
    payment_id, amount, intent_id = (tender.id, tender.amount_cents + tender.tip_cents,
                                     tender.payment_intent_id)
    provider_reader, gateway_name = reader.provider_reader_id, sale.gateway
    session.rollback()  # no transaction stays open while the gateway answers

    error: str | None = None
    try:
        gateway = terminal_gateway(gateway_name)
        if intent_id is None:
            intent_id = gateway.create_terminal_intent(TerminalIntentRequest(
                sale_id=sale_id, payment_id=payment_id, amount_cents=amount,
                currency=currency, idempotency_key=f"payment-{payment_id}-terminal")).id
        gateway.process_on_reader(provider_reader, intent_id)
    except GatewayError as failure:
        log.warning("sale %s: the reader did not take the payment: %s", sale_id, failure)
        error = _reader_error(failure)

    with write_transaction() as session:
        locked = lock_sale(session, sale_id)
        assert locked is not None
        stored = session.get(Payment, payment_id, populate_existing=True)
        assert stored is not None
        if stored.payment_intent_id is None and intent_id is not None:
            stored.payment_intent_id = intent_id
        if stored.status == PaymentStatus.PENDING:
            stored.last_error = error
    return error


def _reader_error(error: GatewayError) -> str:
    if error.code == "terminal_reader_busy":
        return "The card reader is busy with another payment. Try again in a moment."
    if error.code == "terminal_reader_offline":
        return "The card reader is offline. Check its power and network, then try again."
    return error.message[:300]


def stop_collecting(sale_id: int) -> bool:
    """Before a reader sale is cancelled: cancel the reader's action and the PaymentIntent
    (best effort: the sale is cancelled whatever the provider answers). A PaymentIntent
    that succeeded meanwhile is settled here, so the cancel that follows is refused.
    True when the provider confirmed the cancellation."""
    from pos.services.sales.terminal_settlement import settle_terminal_intent

    session = db.session()
    sale = get_sale(session, sale_id)
    tender = sale.terminal_payment
    reader = session.get(TerminalReader, tender.reader_id) \
        if tender is not None and tender.reader_id is not None else None
    intent_id = tender.payment_intent_id if tender is not None else None
    provider_reader = reader.provider_reader_id if reader is not None else None
    gateway_name = sale.gateway
    session.rollback()
    confirmed = True
    gateway = terminal_gateway(gateway_name)
    if provider_reader is not None:
        try:
            gateway.cancel_reader_action(provider_reader)
        except GatewayError as error:  # nothing in progress on it, or unreachable
            log.info("sale %s: reader action not cancelled: %s", sale_id, error)
    if intent_id is not None:
        try:
            intent = gateway.cancel_terminal_intent(intent_id)
        except GatewayError as error:
            log.warning("sale %s: PaymentIntent not cancelled: %s", sale_id, error)
            confirmed = False
        else:
            if intent.is_paid:
                settle_terminal_intent(intent, None)
    return confirmed

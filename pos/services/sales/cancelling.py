"""Ending an unpaid card sale at the desk: cancel it, or take the same cart in cash.

Cancel (`cancel_sale`), in this order, so no lock is held while the gateway answers:
1. read the sale (no lock): only an `awaiting_payment` sale can be cancelled;
2. outside any transaction, expire its Checkout Session at the gateway. The gateway
   answers with the session as it ends: if the client paid a moment before, the session
   is complete and paid, and the payment is settled as any other (the sale is paid, and
   cancelling it is refused: 409 `sale_already_paid`);
3. one transaction locks the sale and, if it still awaits payment, releases its hold and
   marks it `cancelled` (its card tender `cancelled`).
If the gateway cannot be reached in step 2 the sale is cancelled all the same (the desk
must be able to move on): a payment that still lands later finds a cancelled sale, which
settlement flags for a manager and refunds automatically (never sells it).

"Take cash instead" (`switch_to_cash`) is a cancel followed by a cash sale of the same
lines, client and discount code: two transactions, because the card sale's end must be
committed (its hold released) before its stock can be sold again. If the cash sale is
refused (stock sold meanwhile), the card sale stays cancelled and the error is shown.
"""
from __future__ import annotations

import logging

from pos.domain.errors import NotFound, PosError
from pos.domain.statuses import PaymentMethod, PaymentStatus, SaleStatus
from pos.extensions import db
from pos.models import Sale
from pos.payments.gateway import GatewayError
from pos.services import audit
from pos.services.sales import cash_pg
from pos.services.sales.cart import CartLine, ManualDiscount
from pos.services.sales.records import get_sale, lock_sale, release_and_close
from pos.services.sales.selling import sell
from pos.services.sales.settlement import fulfil_checkout
from pos.services.sales.tenders import give_back_taken
from pos.services.transaction import write_transaction
from pos.settings import Settings

log = logging.getLogger("pos.sales")


class SaleAlreadyPaid(PosError):
    code = "sale_already_paid"
    status = 409


class SaleNotCancellable(PosError):
    """Expired, failed, void: already ended, with its stock released."""

    code = "sale_not_cancellable"
    status = 409


def _refuse_unless_awaiting(sale: Sale) -> None:
    if sale.status == SaleStatus.PAID:
        raise SaleAlreadyPaid(f"Sale {sale.id} is already paid: refund it instead.",
                              {"sale_id": sale.id, "status": sale.status})
    if sale.status != SaleStatus.AWAITING_PAYMENT:
        raise SaleNotCancellable(
            f"Sale {sale.id} is {sale.status.replace('_', ' ')}: it is over already.",
            {"sale_id": sale.id, "status": sale.status})


def cancel_sale(sale_id: int, user_id: int | None) -> Sale:
    """Cancel an awaiting_payment sale; cancelling it again (a double click) returns it."""
    return _cancel(sale_id, user_id)[0]


def _cancel(sale_id: int, user_id: int | None) -> tuple[Sale, bool]:
    """The sale, and whether this call cancelled it (False: it already was)."""
    session = db.session()
    sale = session.get(Sale, sale_id)
    if sale is None:
        raise NotFound(f"There is no sale {sale_id}.", {"sale_id": sale_id})
    if sale.status == SaleStatus.CANCELLED:
        return sale, False
    _refuse_unless_awaiting(sale)
    checkout_session_id, gateway_name = sale.checkout_session_id, sale.gateway
    reader_tender = sale.terminal_payment
    # A reader tender under way (not one declined and cancelled to make way for a card).
    on_reader = reader_tender is not None and reader_tender.status == PaymentStatus.PENDING
    session.rollback()  # no transaction stays open while the gateway answers

    expired_at_gateway = False
    if on_reader:  # a card reader: its action and PaymentIntent cancelled (terminal.py)
        from pos.services.sales.terminal import stop_collecting

        expired_at_gateway = stop_collecting(sale_id)
    elif checkout_session_id:
        from pos.payments.factory import gateway_named

        try:
            checkout = gateway_named(gateway_name).expire_checkout(checkout_session_id)
        except GatewayError as error:
            log.warning("could not expire the checkout of sale %s: %s", sale_id, error)
        else:
            expired_at_gateway = True
            if checkout.is_paid:
                # Paid just before the expiry: settle it (idempotent), then refuse below.
                fulfil_checkout(checkout, None)

    with write_transaction() as session:
        locked = lock_sale(session, sale_id)
        assert locked is not None
        cancelled_now = locked.status != SaleStatus.CANCELLED
        if cancelled_now and expired_at_gateway and locked.status == SaleStatus.EXPIRED:
            # The gateway's "expired" event for our own expiry got here first and released
            # the hold already: the sale was cancelled, which is what it shows.
            locked.status = SaleStatus.CANCELLED
            audit.record(session, user_id, "sale.cancel", "sale", locked.id,
                         total_cents=locked.total_cents, checkout_expired=True)
        elif cancelled_now:
            _refuse_unless_awaiting(locked)
            give_back_taken(session, locked, user_id)  # cash already taken: out of the drawer
            release_and_close(session, locked, SaleStatus.CANCELLED)
            audit.record(session, user_id, "sale.cancel", "sale", locked.id,
                         total_cents=locked.total_cents,
                         checkout_expired=expired_at_gateway)
    db.session.expire_all()
    return get_sale(db.session(), sale_id), cancelled_now


def switch_to_cash(sale_id: int, user_id: int | None, *, settings: Settings,
                   cash_tendered_cents: int | None = None) -> Sale | cash_pg.SoldSale:
    """Cancel the card sale and sell its cart in cash; returns the cash sale. Only the
    request that cancelled the card sale sells (a double click sells once)."""
    card_sale, cancelled_now = _cancel(sale_id, user_id)
    if not cancelled_now:
        raise SaleNotCancellable(
            f"Sale {sale_id} was cancelled already; ring the cart up again if need be.",
            {"sale_id": sale_id, "status": card_sale.status})
    lines = [CartLine(sku=line.item.sku if line.item is not None else None,
                      package_code=line.package.code if line.package is not None else None,
                      quantity=line.quantity)
             for line in card_sale.lines]
    client_id = card_sale.client_id
    discount = card_sale.discount_code.code if card_sale.discount_code is not None else None
    # The manual discount a manager approved for the card sale, as the amount it gave.
    manual = ManualDiscount(reason=card_sale.manual_discount_reason or "",
                            amount_cents=card_sale.manual_discount_cents,
                            approved_by_id=card_sale.manual_discount_approved_by_id) \
        if card_sale.manual_discount_cents else None
    db.session.rollback()
    cash_sale = sell(client_id=client_id, lines=lines, discount_code=discount,
                     payment=PaymentMethod.CASH, user_id=user_id, settings=settings,
                     cash_tendered_cents=cash_tendered_cents, manual_discount=manual)
    with write_transaction() as session:
        audit.record(session, user_id, "sale.switched_to_cash", "sale", sale_id,
                     cash_sale_id=cash_sale.id)
    return cash_sale

"""Selling at the front desk: cash and card, and voiding an unpaid card sale.

Cash: `sell()` is one transaction: stock leaves at once, the sale is paid and numbered.

Card (the card flow never holds a database lock while talking to the gateway):
1. transaction 1 creates the sale `awaiting_payment` and HOLDS its retail stock;
2. the gateway's Checkout Session is created, outside any transaction, with an
   idempotency key derived from the sale (a retry never makes a second session);
3. transaction 2 stores the session's id, url and expiry.

A discount code's use is counted when the sale is created (so a limited code cannot be
oversold by unpaid card sales) and given back when a card sale expires, fails or is voided.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.orm import Session

from pos.domain.errors import NotFound, ValidationFailed
from pos.domain.money import format_cents
from pos.domain.statuses import DrawerEntryKind, PaymentMethod, PaymentStatus, SaleStatus
from pos.extensions import db
from pos.models import (
    Client,
    ItemStock,
    Payment,
    Sale,
    SaleLine,
)
from pos.models.sales import GIFT_CARD_CATEGORY
from pos.payments.gateway import (
    CheckoutLine,
    CheckoutRequest,
    GatewayError,
)
from pos.services import audit, clock, drawers, gift_cards, ledger
from pos.services.clinic import clinic_settings
from pos.services.sales import cash_pg
from pos.services.sales.cart import (
    CartLine,
    ManualDiscount,
    Quote,
    find_discount,
    price,
    resolve_lines,
)
from pos.services.sales.errors import (
    CashTenderedTooLow,
    ClientRequired,
    PaymentGatewayUnavailable,
    PaymentsDoNotCoverTotal,
    SaleNotVoidable,
    UnknownClient,
)
from pos.services.sales.records import (
    close_unpaid,
    get_sale,
    held_quantities,
    lock_sale,
    mark_paid,
    payment_gateway,
    release_and_close,
)
from pos.services.sales.settlement import fulfil_checkout
from pos.services.transaction import write_transaction
from pos.settings import Settings

log = logging.getLogger("pos.sales")

# The single-tender payments a sale takes today (`payment`).
PAYMENT_METHODS: tuple[str, ...] = (PaymentMethod.CASH.value, PaymentMethod.CARD.value,
                                    PaymentMethod.TERMINAL.value)


def _create_sale(session: Session, *, client_id: int | None, lines: Sequence[CartLine],
                 discount_code: str | None, payment: PaymentMethod, user_id: int | None,
                 location_id: int, tender_status: PaymentStatus,
                 manual: ManualDiscount | None = None,
                 tenders: Sequence[Payment] | None = None,
                 ) -> tuple[Sale, dict[int, ItemStock], Quote]:
    """The sale, its lines and its tenders: one tender of the whole total (`payment`), or
    `tenders` (pos.services.sales.tenders), which must add up to the total."""
    client = None
    if client_id is not None:
        client = session.get(Client, client_id)
        if client is None:
            raise UnknownClient(f"There is no client {client_id}.", {"client_id": client_id})
    resolved = resolve_lines(session, lines)
    if client is None and any(r.package_id is not None for r in resolved):
        raise ClientRequired("A treatment package is sold to a client: choose the client first.",
                             {"fields": {"client_id": "required for a package"}})
    # Lock order everywhere: sale row, item stock rows (by item id), discount, receipt counter.
    stocks = ledger.lock_items(session, [r.item_id for r in resolved if r.item_id], location_id)
    discount = find_discount(session, discount_code, lock=True) if discount_code and \
        discount_code.strip() else None
    quote = price(resolved, discount, clinic_settings(session).tax_rate_bp, manual)
    if discount is not None:
        discount.times_used += 1
    sale = Sale(client_id=client_id, location_id=location_id, sold_by_id=user_id,
                status=SaleStatus.AWAITING_PAYMENT, payment_method=payment,
                subtotal_cents=quote.subtotal_cents, discount_cents=quote.discount_cents,
                tax_cents=quote.tax_cents, total_cents=quote.total_cents,
                discount_code_id=discount.id if discount is not None else None)
    if manual is not None:
        sale.manual_discount_cents = quote.manual_discount_cents
        sale.manual_discount_reason = manual.reason
        sale.manual_discount_approved_by_id = manual.approved_by_id
    # The loaded rows ride along on the sale (no lazy load later, e.g. for the receipt).
    sale.client = client
    sale.discount_code = discount
    sale.lines = [
        SaleLine(item_id=q.item_id, package_id=q.package_id, name=q.name, category=q.category,
                 quantity=q.quantity, unit_price_cents=q.unit_price_cents,
                 subtotal_cents=q.subtotal_cents, discount_cents=q.discount_cents,
                 tax_cents=q.tax_cents, total_cents=q.total_cents, taxable=q.taxable,
                 item=q.item, package=q.package)
        for q in quote.lines
    ]
    if tenders is not None:
        if tenders:  # none: the desk's open split sale, its tenders added one by one
            check_tenders_cover(quote.total_cents, tenders)
        sale.payments = list(tenders)
    else:
        # One tender of the whole total: written with the sale (one INSERT more, no UPDATE).
        sale.payments = [Payment(method=payment, amount_cents=quote.total_cents,
                                 status=tender_status, tip_cents=0)]
    session.add(sale)
    session.flush()
    for line, q in zip(sale.lines, quote.lines, strict=True):
        if line.category == GIFT_CARD_CATEGORY:  # worth nothing until the sale is paid
            gift_cards.prepare(session, line.unit_price_cents, sale_line_id=line.id,
                               recipient_email=q.recipient_email)
    if manual is not None:
        audit.record(session, user_id, "sale.manual_discount", "sale", sale.id,
                     amount_cents=quote.manual_discount_cents, percent=manual.percent,
                     approved_by=manual.approved_by_id)
    return sale, stocks, quote


def check_tenders_cover(total_cents: int, tenders: Sequence[Payment]) -> None:
    paid = sum(tender.amount_cents for tender in tenders)
    if paid != total_cents:
        raise PaymentsDoNotCoverTotal(
            f"The payments add up to {format_cents(paid)}, not the total, "
            f"{format_cents(total_cents)}.",
            {"total_cents": total_cents, "payments_cents": paid})


def sell(*, client_id: int | None, lines: Sequence[CartLine], discount_code: str | None,
         payment: PaymentMethod | str, user_id: int | None,
         settings: Settings, cash_tendered_cents: int | None = None,
         base_url: str | None = None,
         manual_discount: ManualDiscount | None = None,
         reader_id: int | None = None,
         location_id: int | None = None) -> Sale | cash_pg.SoldSale:
    """Sell a cart. Cash: paid at once. Card: `awaiting_payment` with a checkout url.

    A cash sale on PostgreSQL comes back as `cash_pg.SoldSale`, the sale as written
    (read-only, the attributes the response and the receipt read); otherwise the `Sale`.

    `settings` and `base_url` (where the card payment page sends the client back: the
    request's own root) come from the web layer; without a base_url, PUBLIC_BASE_URL.
    `manual_discount` was approved by the caller (pos.services.discounts.approver).
    `location_id`: where the desk works (None: the clinic's first location)."""
    if payment not in PAYMENT_METHODS:
        raise ValidationFailed("Payment must be cash, card or terminal.",
                               {"fields": {"payment": "must be cash, card or terminal"}})
    if payment == PaymentMethod.TERMINAL:  # a card reader: pos/services/sales/terminal.py
        from pos.services.sales.terminal import sell_terminal

        return sell_terminal(client_id=client_id, lines=lines, discount_code=discount_code,
                             user_id=user_id, reader_id=reader_id, settings=settings,
                             manual=manual_discount, location_id=location_id)
    if payment == PaymentMethod.CASH:
        return _sell_cash(client_id=client_id, lines=lines, discount_code=discount_code,
                          user_id=user_id, cash_tendered_cents=cash_tendered_cents,
                          manual=manual_discount, location_id=location_id)
    return _sell_card(client_id=client_id, lines=lines, discount_code=discount_code,
                      user_id=user_id, settings=settings,
                      base_url=base_url, manual=manual_discount, location_id=location_id)


def _check_tendered(total_cents: int, cash_tendered_cents: int) -> None:
    if cash_tendered_cents < total_cents:
        raise CashTenderedTooLow(
            f"{format_cents(cash_tendered_cents)} tendered is less than the total, "
            f"{format_cents(total_cents)}.",
            {"cash_tendered_cents": cash_tendered_cents, "total_cents": total_cents})


def _sell_cash(*, client_id: int | None, lines: Sequence[CartLine], discount_code: str | None,
               user_id: int | None, cash_tendered_cents: int | None,
               manual: ManualDiscount | None = None,
               location_id: int | None = None) -> Sale | cash_pg.SoldSale:
    session = db.session()
    if session.get_bind().dialect.name == "postgresql" and manual is None and not \
            (discount_code and discount_code.strip()):
        # The short path (pos/services/sales/cash_pg.py): a few statements, no unit of work.
        try:
            return cash_pg.sell_cash(session, client_id=client_id, lines=lines,
                                     user_id=user_id, cash_tendered_cents=cash_tendered_cents,
                                     check_tendered=_check_tendered, location_id=location_id)
        except cash_pg.Fallback:
            pass  # rolled back; the ORM path below says why (or creates what was missing)
    with _keeping_sale_loaded() as kept, write_transaction() as session:
        location = ledger.location_or_default(session, location_id)
        today = clock.today()
        # The drawer first (FOR SHARE), then the stock: pos/services/drawers.py.
        drawer_id = drawers.drawer_for_cash(session, location.id, user_id)
        sale, stocks, _quote = _create_sale(
            session, client_id=client_id, lines=lines, discount_code=discount_code,
            payment=PaymentMethod.CASH, user_id=user_id, location_id=location.id,
            # The cash is in hand: if anything below fails, the whole sale rolls back.
            tender_status=PaymentStatus.SUCCEEDED, manual=manual)
        if cash_tendered_cents is not None:
            _check_tendered(sale.total_cents, cash_tendered_cents)
            sale.cash_tendered_cents = cash_tendered_cents
        item_lines = [line for line in sale.lines if line.item_id is not None]
        lots = ledger.usable_lot_stock(session, [line.item_id for line in item_lines],
                                       location.id)  # type: ignore[misc]
        for line in item_lines:
            assert line.item_id is not None
            ledger.consume_fefo(session, stocks[line.item_id], line.quantity, today, "sale",
                                sku=stocks[line.item_id].item.sku,
                                reference=f"sale:{sale.id}", user_id=user_id,
                                lots=lots[line.item_id])
        drawers.add_entry(session, drawer_id, DrawerEntryKind.CASH_SALE, sale.total_cents,
                          user_id=user_id, sale_id=sale.id)
        audit.record(session, user_id, "sale.paid", "sale", sale.id, method=PaymentMethod.CASH,
                     total_cents=sale.total_cents)
        mark_paid(session, sale)  # the receipt number: the transaction's last write
        kept.append(sale)
        return sale


@contextmanager
def _keeping_sale_loaded() -> Iterator[list[Sale]]:
    """Commit without expiring the sale the transaction wrote (nor its lines, their items
    and packages, its discount code): what it holds is exactly what was committed, so the
    response is built without reading it all again. Everything else is expired as usual."""
    session = db.session()
    kept: list[Sale] = []
    previous = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield kept
    finally:
        session.expire_on_commit = previous
        keep: set[int] = set()
        for sale in kept:
            keep.add(id(sale))
            if sale.discount_code is not None:
                keep.add(id(sale.discount_code))
            keep.update(id(tender) for tender in sale.payments)
            for line in sale.lines:
                keep.update(id(obj) for obj in (line, line.item, line.package)
                            if obj is not None)
        for obj in list(session.identity_map.values()):
            if id(obj) not in keep:
                session.expire(obj)


def _sell_card(*, client_id: int | None, lines: Sequence[CartLine], discount_code: str | None,
               user_id: int | None, settings: Settings, base_url: str | None,
               manual: ManualDiscount | None = None, location_id: int | None = None) -> Sale:
    gateway = payment_gateway()
    minutes = settings.checkout_expires_minutes
    root = (base_url or settings.public_base_url or "http://localhost:5000").rstrip("/")
    with write_transaction() as session:
        location = ledger.location_or_default(session, location_id)
        sale, stocks, _quote = _create_sale(
            session, client_id=client_id, lines=lines, discount_code=discount_code,
            payment=PaymentMethod.CARD, user_id=user_id, location_id=location.id,
            tender_status=PaymentStatus.PENDING, manual=manual)
        for item_id, quantity in held_quantities(sale).items():
            ledger.place_hold(session, stocks[item_id], quantity, sku=stocks[item_id].item.sku)
        sale.gateway = gateway.name
        sale.expires_at = clock.now() + timedelta(minutes=minutes)
        audit.record(session, user_id, "sale.create", "sale", sale.id, method=PaymentMethod.CARD,
                     total_cents=sale.total_cents)
        sale_id, total, expires_at = sale.id, sale.total_cents, sale.expires_at
        checkout_lines = _checkout_lines(sale)

    # No transaction is open here: the gateway may take seconds.
    request_ = CheckoutRequest(
        sale_id=sale_id, currency=settings.currency, lines=checkout_lines,
        amount_total_cents=total, expires_at=expires_at,
        success_url=root + "/payments/done", cancel_url=root + "/payments/cancelled",
        idempotency_key=f"sale-{sale_id}-checkout")
    try:
        checkout = gateway.create_checkout(request_)
    except GatewayError as error:
        log.warning("checkout for sale %s failed: %s", sale_id, error)
        close_unpaid(sale_id, SaleStatus.FAILED, user_id, action="sale.checkout_failed")
        raise PaymentGatewayUnavailable(
            "The card payment service could not be reached, so the sale was cancelled and "
            "its stock released. Try again in a moment, or take cash. "
            f"({error.message})", {"sale_id": sale_id}) from None

    with write_transaction() as session:
        stored = lock_sale(session, sale_id)
        assert stored is not None
        sale = stored
        # The payment may already have landed (a fast webhook): only fill in what is missing.
        tender = sale.card_payment
        assert tender is not None
        if tender.checkout_session_id is None:
            tender.checkout_session_id = checkout.id
        if sale.checkout_url is None and sale.status == SaleStatus.AWAITING_PAYMENT:
            sale.checkout_url = checkout.url
        if checkout.expires_at is not None and sale.status == SaleStatus.AWAITING_PAYMENT:
            sale.expires_at = checkout.expires_at
        return sale


def _checkout_lines(sale: Sale) -> tuple[CheckoutLine, ...]:
    """Lines whose amounts add up to the total (discount and tax folded in).

    A line's total divides evenly by its quantity: sent as quantity x unit; otherwise as
    one line "N x name" for its total, so Stripe's sum is the sale's total to the cent.
    """
    out = []
    for line in sale.lines:
        if line.total_cents % line.quantity == 0:
            out.append(CheckoutLine(line.name[:120], line.total_cents // line.quantity,
                                    line.quantity))
        else:
            out.append(CheckoutLine(f"{line.quantity} x {line.name}"[:120], line.total_cents, 1))
    return tuple(out)


def void_sale(sale_id: int, user_id: int | None) -> Sale:
    """A manager cancels an unpaid sale: its hold is released, its checkout ended."""
    with write_transaction() as session:
        sale = lock_sale(session, sale_id)
        if sale is None:
            raise NotFound(f"There is no sale {sale_id}.", {"sale_id": sale_id})
        if sale.status != SaleStatus.AWAITING_PAYMENT:
            raise SaleNotVoidable(
                f"Sale {sale_id} is {sale.status.replace('_', ' ')}; only a sale awaiting "
                "payment, or paid today, can be voided.",
                {"sale_id": sale_id, "status": sale.status})
        release_and_close(session, sale, SaleStatus.VOID)
        audit.record(session, user_id, "sale.void", "sale", sale.id,
                     total_cents=sale.total_cents)
        session_id = sale.checkout_session_id
        gateway_name = sale.gateway
    if session_id:
        # Best effort, after the commit: if the client paid a moment ago, the payment is
        # settled (and, the sale being void, refunded) by the same fulfilment code.
        try:
            from pos.payments.factory import gateway_named

            checkout = gateway_named(gateway_name).expire_checkout(session_id)
            if checkout.is_paid:
                fulfil_checkout(checkout, None)
        except GatewayError as error:
            log.warning("could not expire the checkout of void sale %s: %s", sale_id, error)
    db.session.expire_all()
    return get_sale(db.session(), sale_id)

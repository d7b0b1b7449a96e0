"""A sale paid by several tenders (split tender), and a tender added to a sale awaiting
payment (API.md "In-person and mixed payments").

Each tender is a row of `payments` (saleor's TransactionItem) with its own status; the sale
is `paid` (numbered, stock taken, packages created) when its succeeded tenders add up to
its total, and until then it is `awaiting_payment` with its retail stock held, as a card
sale is. Methods built here, each one branch of `_start`:
- `cash`: succeeded at once; `cash_tendered_cents` (at least the amount and the tip) gives
  the change of that tender only; the amount and the tip go into the open drawer;
- `external_card`: another processor's card machine, recorded succeeded at once with its
  last 4 digits and authorization code;
- `card`: a Stripe Checkout Session for that tender's amount (created after the commit,
  as for a card sale); one card tender is pending at a time. If it fails or expires the
  other tenders stay and the sale stays awaiting: the desk adds another tender for the
  balance (`add_tender`), or cancels the sale, which gives the cash back out of the drawer
  (pos.services.sales.cancelling).
- `terminal`: a card reader (`reader_id`, a reader of the sale's location): pending, as a
  card; after the commit its PaymentIntent (for the tender's amount and its tip) is created
  and handed to the reader (pos.services.sales.terminal.hand_to_reader, no lock held);
  terminal_settlement marks it succeeded and the sale paid by the one rule here,
  `_pay_if_covered`. A decline leaves it pending with `last_error`: retry on the reader, or
  add another tender, which first stops the declined one (`_drop_declined`). One card or
  terminal tender is pending at a time;
- `account_credit`: the sale's client's credit (422 `client_required` without a client),
  spent in the sale's transaction (pos.services.credit.spend_credit, 422 `credit_too_low`),
  succeeded at once; a refund of that share, or a cancel, gives it back to the credit.
- `gift_card` (`code`): the card is redeemed in the sale's transaction
  (pos.services.gift_cards.redeem, 422 `unknown_gift_card` / `gift_card_balance_too_low`,
  nothing written), succeeded at once; never any change. A sale that sells a gift card
  takes no gift card tender (422 `gift_card_pays_gift_card`). A refund of that share goes
  back onto that card (pos.services.refund_tenders), a cancel or void gives back all of it.
Tips (`tip_cents`, `tip_provider_id`: a user holding provider) ride on a cash or terminal
tender: not revenue, not taxed, not in the sale's total. The cash tip is in the drawer; the
terminal tip is charged on the reader with the tender (PaymentIntent amount = amount_cents
+ tip_cents) and a refund of the tender's share never gives the tip back.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session

from pos.domain.errors import ValidationFailed
from pos.domain.money import format_cents
from pos.domain.statuses import (
    DrawerEntryKind,
    PaymentMethod,
    PaymentStatus,
    SalePaymentMethod,
    SaleStatus,
)
from pos.extensions import db
from pos.models import Payment, Sale
from pos.payments.gateway import CheckoutLine, CheckoutRequest, GatewayError
from pos.services import audit, clock, credit, drawers, gift_cards, ledger
from pos.services.sales.cart import CartLine, ManualDiscount
from pos.services.sales.errors import (
    CardPaymentPending,
    PaymentExceedsBalance,
    PaymentGatewayUnavailable,
    SaleNotAwaitingPayment,
)
from pos.services.sales.records import (
    get_sale,
    held_quantities,
    lock_sale,
    mark_paid,
    payment_gateway,
    take_stock,
)
from pos.services.sales.tender_checks import (  # noqa: F401 -- re-exported
    BUILT_METHODS,
    PENDING_METHODS,
    TIPPED_METHODS,
    PaymentMethodUnavailable,
    Tender,
    _check,
    _needs_client,
    _reader_of,
    _row,
)
from pos.services.transaction import write_transaction
from pos.settings import Settings

log = logging.getLogger("pos.sales")


def _taken(session: Session, sale: Sale, row: Payment, user_id: int | None,
           code: str | None = None) -> None:
    """What a tender taken at the desk does at once: cash (and its tip) into the drawer,
    credit spent, the gift card `code` redeemed (its entry names the tender's row)."""
    if row.method == PaymentMethod.CASH:
        drawer_id = drawers.drawer_for_cash(session, sale.location_id, user_id)
        drawers.add_entry(session, drawer_id, DrawerEntryKind.CASH_SALE,
                          row.amount_cents + row.tip_cents, user_id=user_id, sale_id=sale.id,
                          note=f"tip {row.tip_cents}" if row.tip_cents else None)
    if row.method == PaymentMethod.ACCOUNT_CREDIT:
        assert sale.client_id is not None
        credit.spend_credit(session, sale.client_id, row.amount_cents, row.id,
                            user_id=user_id, reason=f"Paid sale {sale.id}")
    if row.method == PaymentMethod.GIFT_CARD:
        assert code is not None
        gift_cards.redeem(session, code, row.amount_cents, sale_id=sale.id, payment_id=row.id,
                          user_id=user_id)
    audit.record(session, user_id, "sale.tender", "sale", sale.id, method=row.method,
                 amount_cents=row.amount_cents, tip_cents=row.tip_cents, status=row.status)


def _pay_if_covered(session: Session, sale: Sale, *, from_hold: bool,
                    user_id: int | None) -> bool:
    """Paid when the succeeded tenders cover the total: stock taken, numbered."""
    if sale.status != SaleStatus.AWAITING_PAYMENT or sale.paid_cents != sale.total_cents:
        return False
    take_stock(session, sale, from_hold=from_hold)
    sale.checkout_url = None
    audit.record(session, user_id, "sale.paid", "sale", sale.id,
                 method=sale.payment_method, total_cents=sale.total_cents)
    mark_paid(session, sale)  # the receipt number: the transaction's last write
    return True


def sell_tenders(*, client_id: int | None, lines: Sequence[CartLine],
                 discount_code: str | None, tenders: Sequence[Tender], user_id: int | None,
                 settings: Settings, base_url: str | None = None,
                 manual_discount: ManualDiscount | None = None,
                 location_id: int | None = None) -> Sale:
    """Sell a cart paid by `tenders`, which add up to its total (else 422
    `payments_do_not_cover_total`). Paid at once when no tender is a card."""
    from pos.services.sales.selling import _create_sale

    with write_transaction() as session:
        for index, tender in enumerate(tenders):
            _check(session, tender, f"payments.{index}")
        if sum(t.method in PENDING_METHODS for t in tenders) > 1:
            raise ValidationFailed("One card or card reader payment per sale at a time.",
                                   {"fields": {"payments": "at most one card payment"}})
        location = ledger.location_or_default(session, location_id)
        if any(t.method == PaymentMethod.CASH for t in tenders):
            # The drawer first (FOR SHARE), then the stock: pos/services/drawers.py.
            drawers.drawer_for_cash(session, location.id, user_id)
        gateways = [_reader_of(session, location.id, tender) for tender in tenders]
        rows = [_row(tender) for tender in tenders]
        method = rows[0].method if len(rows) == 1 else SalePaymentMethod.SPLIT
        sale, stocks, _quote = _create_sale(
            session, client_id=client_id, lines=lines, discount_code=discount_code,
            payment=method, user_id=user_id,  # type: ignore[arg-type]
            location_id=location.id, tender_status=PaymentStatus.PENDING,
            manual=manual_discount, tenders=rows)
        for tender, gateway in zip(tenders, gateways, strict=True):
            _needs_client(sale, tender)
            sale.gateway = gateway or sale.gateway
        audit.record(session, user_id, "sale.create", "sale", sale.id, method=method,
                     total_cents=sale.total_cents)
        for tender, row in zip(tenders, rows, strict=True):
            if row.status == PaymentStatus.SUCCEEDED:
                _taken(session, sale, row, user_id, tender.code)
        if not _pay_if_covered(session, sale, from_hold=False, user_id=user_id):
            for item_id, quantity in held_quantities(sale).items():
                ledger.place_hold(session, stocks[item_id], quantity,
                                  sku=stocks[item_id].item.sku)
        sale_id = sale.id
        card = next((row for row in rows if row.status == PaymentStatus.PENDING), None)
        card_id = card.id if card is not None else None
        on_reader = card is not None and card.method == PaymentMethod.TERMINAL
    if card_id is not None:
        _start_pending(sale_id, card_id, on_reader, settings, base_url, user_id)
    db.session.expire_all()
    return get_sale(db.session(), sale_id)


def open_split_sale(*, client_id: int | None, lines: Sequence[CartLine],
                    discount_code: str | None, user_id: int | None,
                    manual_discount: ManualDiscount | None = None,
                    location_id: int | None = None) -> Sale:
    """The desk's "Split payment": the sale awaiting payment with its stock held and no
    tender yet; the desk adds tenders (`add_tender`) until the balance is 0."""
    from pos.services.sales.selling import _create_sale

    with write_transaction() as session:
        location = ledger.location_or_default(session, location_id)
        sale, stocks, _quote = _create_sale(
            session, client_id=client_id, lines=lines, discount_code=discount_code,
            payment=SalePaymentMethod.SPLIT, user_id=user_id,  # type: ignore[arg-type]
            location_id=location.id, tender_status=PaymentStatus.PENDING,
            manual=manual_discount, tenders=[])
        for item_id, quantity in held_quantities(sale).items():
            ledger.place_hold(session, stocks[item_id], quantity, sku=stocks[item_id].item.sku)
        audit.record(session, user_id, "sale.create", "sale", sale.id,
                     method=SalePaymentMethod.SPLIT, total_cents=sale.total_cents)
        sale_id = sale.id
    db.session.expire_all()
    return get_sale(db.session(), sale_id)


def add_tender(sale_id: int, tender: Tender, *, user_id: int | None, settings: Settings,
               base_url: str | None = None) -> Sale:
    """Another tender for a sale awaiting payment, at most its balance (else 422
    `payment_exceeds_balance`); the sale is paid when the balance is taken."""
    _check(db.session(), tender, "payment")  # a bad tender leaves a declined one alone
    db.session.rollback()
    _drop_declined(sale_id, user_id)
    with write_transaction() as session:
        _check(session, tender, "payment")
        sale = lock_sale(session, sale_id)
        if sale is None:
            get_sale(session, sale_id)  # 404
            raise AssertionError
        if sale.status != SaleStatus.AWAITING_PAYMENT:
            raise SaleNotAwaitingPayment(
                f"Sale {sale_id} is {sale.status.replace('_', ' ')}: it takes no more payments.",
                {"sale_id": sale_id, "status": sale.status})
        if any(p.status == PaymentStatus.PENDING for p in sale.payments):
            raise CardPaymentPending(
                f"Sale {sale_id} has a card payment under way: wait for it, or cancel the sale.",
                {"sale_id": sale_id})
        balance = sale.balance_cents
        if tender.amount_cents > balance:
            raise PaymentExceedsBalance(
                f"{format_cents(tender.amount_cents)} is more than the balance, "
                f"{format_cents(balance)}.",
                {"amount_cents": tender.amount_cents, "balance_cents": balance})
        sale.gateway = _reader_of(session, sale.location_id, tender) or sale.gateway
        _needs_client(sale, tender)
        if tender.method == PaymentMethod.CASH:
            drawers.drawer_for_cash(session, sale.location_id, user_id)
        row = _row(tender)
        sale.payments.append(row)
        if len(sale.payments) > 1:
            sale.payment_method = SalePaymentMethod.SPLIT
        elif sale.payment_method == SalePaymentMethod.SPLIT and row.amount_cents == \
                sale.total_cents:
            sale.payment_method = row.method  # an open sale paid by one tender after all
        session.flush()
        if row.status == PaymentStatus.SUCCEEDED:
            _taken(session, sale, row, user_id, tender.code)
            _pay_if_covered(session, sale, from_hold=True, user_id=user_id)
        else:
            audit.record(session, user_id, "sale.tender", "sale", sale.id, method=row.method,
                         amount_cents=row.amount_cents, status=row.status)
        row_id, pending = row.id, row.status == PaymentStatus.PENDING
    if pending:
        _start_pending(sale_id, row_id, row.method == PaymentMethod.TERMINAL, settings,
                       base_url, user_id)
    db.session.expire_all()
    return get_sale(db.session(), sale_id)


def _start_pending(sale_id: int, payment_id: int, on_reader: bool, settings: Settings,
                   base_url: str | None, user_id: int | None) -> None:
    """After the commit: a reader tender goes to its reader (its error, if any, is kept on
    the tender and the sale stays awaiting), a card tender gets its Checkout Session."""
    if on_reader:
        from pos.services.sales.terminal import hand_to_reader

        hand_to_reader(sale_id, settings.currency)
    else:
        _start_checkout(sale_id, payment_id, settings, base_url, user_id)


def _drop_declined(sale_id: int, user_id: int | None) -> None:
    """A reader tender that was declined (pending with `last_error`) makes way for another
    tender: the reader's action and its PaymentIntent are cancelled first (no lock held;
    a payment that went through meanwhile is settled by stop_collecting), then the tender
    is cancelled if it is still pending."""
    from pos.services.sales.terminal import stop_collecting

    session = db.session()
    sale = session.get(Sale, sale_id)
    declined = sale.terminal_payment if sale is not None else None
    if sale is None or sale.status != SaleStatus.AWAITING_PAYMENT or declined is None or \
            declined.status != PaymentStatus.PENDING or not declined.last_error:
        session.rollback()
        return
    payment_id = declined.id
    session.rollback()
    stop_collecting(sale_id)
    with write_transaction() as session:
        sale = lock_sale(session, sale_id)
        stored = session.get(Payment, payment_id, populate_existing=True)
        if sale is not None and stored is not None and stored.status == PaymentStatus.PENDING:
            stored.status = PaymentStatus.CANCELLED
            audit.record(session, user_id, "sale.tender_ended", "sale", sale_id,
                         payment_id=payment_id, status=PaymentStatus.CANCELLED)


def _start_checkout(sale_id: int, payment_id: int, settings: Settings, base_url: str | None,
                    user_id: int | None) -> None:
    """A Checkout Session for one card tender, outside any transaction; stored after."""
    gateway = payment_gateway()
    root = (base_url or settings.public_base_url or "http://localhost:5000").rstrip("/")
    with write_transaction() as session:
        sale = lock_sale(session, sale_id)
        assert sale is not None
        tender = session.get(Payment, payment_id)
        assert tender is not None
        sale.gateway = gateway.name
        sale.expires_at = clock.now() + timedelta(minutes=settings.checkout_expires_minutes)
        amount, expires_at = tender.amount_cents, sale.expires_at
        whole = amount == sale.total_cents
        name = f"Sale {sale_id}" if whole else f"Sale {sale_id}, part payment"
    request_ = CheckoutRequest(
        sale_id=sale_id, currency=settings.currency, lines=(CheckoutLine(name, amount, 1),),
        amount_total_cents=amount, expires_at=expires_at,
        success_url=root + "/payments/done", cancel_url=root + "/payments/cancelled",
        idempotency_key=f"sale-{sale_id}-payment-{payment_id}-checkout")
    try:
        checkout = gateway.create_checkout(request_)
    except GatewayError as error:
        log.warning("checkout for sale %s tender %s failed: %s", sale_id, payment_id, error)
        with write_transaction() as session:
            tender = session.get(Payment, payment_id)
            if tender is not None and tender.status == PaymentStatus.PENDING:
                tender.status = PaymentStatus.FAILED
                audit.record(session, user_id, "sale.tender_failed", "sale", sale_id,
                             payment_id=payment_id)
        raise PaymentGatewayUnavailable(
            "The card payment service could not be reached; the other payments stay and the "
            f"sale awaits the balance: take it another way. ({error.message})",
            {"sale_id": sale_id}) from None
    with write_transaction() as session:
        sale = lock_sale(session, sale_id)
        tender = session.get(Payment, payment_id)
        assert sale is not None and tender is not None
        if tender.checkout_session_id is None:
            tender.checkout_session_id = checkout.id
        if sale.status == SaleStatus.AWAITING_PAYMENT and tender.status == PaymentStatus.PENDING:
            sale.checkout_url = checkout.url
            if checkout.expires_at is not None:
                sale.expires_at = checkout.expires_at


# -- settlement and endings of a sale of several tenders ---------------------------------

def is_split(sale: Sale) -> bool:
    return len(sale.payments) > 1 or sale.payment_method == SalePaymentMethod.SPLIT


def settle_card_tender(session: Session, sale: Sale, card: Payment) -> str:
    """The card tender of a split sale was paid (its amount checked by the caller)."""
    card.status = PaymentStatus.SUCCEEDED
    audit.record(session, None, "sale.tender", "sale", sale.id, method=card.method,
                 amount_cents=card.amount_cents, status=card.status)
    sale.checkout_url = None
    return "paid" if _pay_if_covered(session, sale, from_hold=True, user_id=None) \
        else "tender_paid"


def end_card_tender(session: Session, sale: Sale, status: PaymentStatus,
                    user_id: int | None) -> bool:
    """A split sale's pending card tender failed or expired: it ends alone, the other
    tenders stay, the hold stays and the sale awaits the balance. False when the sale has
    no other tender taken (then it closes as a card sale does)."""
    if not any(p.status == PaymentStatus.SUCCEEDED for p in sale.payments):
        return False
    for tender in sale.payments:
        if tender.status == PaymentStatus.PENDING:
            tender.status = status
    sale.checkout_url = None
    sale.expires_at = None
    audit.record(session, user_id, "sale.tender_ended", "sale", sale.id, status=status)
    return True


def give_back_taken(session: Session, sale: Sale, user_id: int | None) -> None:
    """A sale abandoned with tenders already taken: the cash goes back out of the drawer
    (a cash_refund entry, tip included), account credit back to the client's credit, a
    gift card's redemption back onto the card, an
    external card payment is marked refunded (the desk reverses it on its card machine)."""
    for tender in sale.payments:
        if tender.status != PaymentStatus.SUCCEEDED:
            continue
        if tender.method == PaymentMethod.CASH:
            drawer_id = drawers.drawer_for_cash(session, sale.location_id, user_id)
            drawers.add_entry(session, drawer_id, DrawerEntryKind.CASH_REFUND,
                              tender.amount_cents + tender.tip_cents, user_id=user_id,
                              sale_id=sale.id, note="sale cancelled")
        if tender.method == PaymentMethod.ACCOUNT_CREDIT and sale.client_id is not None:
            credit.issue_credit(session, sale.client_id, tender.amount_cents,
                                reason=f"Sale {sale.id} cancelled", user_id=user_id)
        if tender.method == PaymentMethod.GIFT_CARD:
            gift_cards.reverse_redemption(session, tender.id, user_id=user_id)
        tender.status = PaymentStatus.REFUNDED
        audit.record(session, user_id, "sale.tender_refunded", "sale", sale.id,
                     method=tender.method, amount_cents=tender.amount_cents,
                     tip_cents=tender.tip_cents)

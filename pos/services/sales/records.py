"""The sale row's life shared by selling, settling and sweeping: lock it, number and pay
it (the receipt), close it unpaid (the hold released), and take its stock.

Lock order everywhere: sale row, item stock rows (by item id), discount, receipt counter.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.clinic import ClinicSettings
from pos.domain.errors import NotFound
from pos.domain.gift_cards import grouped
from pos.domain.money import allocate, format_cents
from pos.domain.statuses import PaymentMethod, PaymentStatus, SaleStatus
from pos.extensions import db
from pos.models import (
    Client,
    DiscountCode,
    OutboxMessage,
    Package,
    PackagePurchase,
    Payment,
    ProcessedEvent,
    Sale,
    User,
)
from pos.models.sales import GIFT_CARD_CATEGORY
from pos.payments.gateway import PaymentGateway
from pos.services import audit, clock, gift_cards, ledger
from pos.services.clinic import clinic_settings
from pos.services.receipts import next_receipt_number
from pos.services.transaction import write_transaction
from pos.settings import settings_for


def held_quantities(sale: Sale) -> dict[int, int]:
    held: dict[int, int] = {}
    for line in sale.lines:
        if line.item_id is not None:
            held[line.item_id] = held.get(line.item_id, 0) + line.quantity
    return held


def payment_gateway() -> PaymentGateway:
    from pos.payments.factory import current_gateway

    return current_gateway()


def lock_sale(session: Session, sale_id: int) -> Sale | None:
    return session.scalar(select(Sale).where(Sale.id == sale_id).with_for_update()
                          .execution_options(populate_existing=True))


def mark_paid(session: Session, sale: Sale) -> None:
    """Packages become the client's sessions, the sale gets its number, the receipt is queued.

    Call it last in the paying transaction: the number locks the location's receipt
    counter until the commit, so every other write is flushed before it is taken.
    """
    for line in sale.lines:
        if line.package_id is not None:
            package = line.package or session.get(Package, line.package_id)
            assert package is not None and sale.client_id is not None
            # One purchase per package unit: each series is redeemed and spaced on its own.
            for value in allocate(line.net_cents, [1] * line.quantity):
                session.add(PackagePurchase(
                    client_id=sale.client_id, sale_line_id=line.id, package_id=package.id,
                    sessions_total=package.sessions, value_cents=value))
    gift_cards.issue_for_paid_sale(session, sale)  # sold, not revenue: a liability
    paid_at = clock.now()
    number = next_receipt_number(session, sale.location_id)
    # status, paid_at and the number reach the row in one UPDATE
    sale.status = SaleStatus.PAID
    sale.paid_at = paid_at
    sale.receipt_number = number
    _queue_receipt_email(session, sale)
    session.flush()


def receipt_text(sale: Sale, clinic: ClinicSettings, currency: str, *,
                 cashier: str | None = None, client_name: str | None = None) -> str:
    """The plain-text receipt mailed when the sale is paid: the clinic (name, address,
    phone, tax id), number, cashier, client, lines (a package with the sessions it
    gives), tax, total, each tender (card brand and last 4). Nothing else.
    (pos/services/sales/receipt.py writes the receipt sent again later, refunds included.)"""
    money = lambda cents: format_cents(cents, currency)  # noqa: E731
    rows = [clinic.clinic_name, *[part for part in (clinic.address, clinic.phone) if part]]
    if clinic.tax_id:
        rows.append(f"Tax id: {clinic.tax_id}")
    rows += ["", f"Receipt #{sale.receipt_number}",
             f"Date: {clock.clinic_date(sale.paid_at or clock.now()).isoformat()}"]
    if cashier:
        rows.append(f"Cashier: {cashier}")
    if client_name:
        rows.append(f"Client: {client_name}")
    rows.append("")
    for line in sale.lines:
        rows.append(f"{line.quantity} x {line.name}  {money(line.subtotal_cents)}")
        if line.package is not None:
            # Just bought: every session of each unit is still to come.
            rows += [f"    sessions left: {line.package.sessions}"] * line.quantity
        card = line.gift_card if line.category == GIFT_CARD_CATEGORY else None
        if card is not None:  # the buyer's receipt: the whole code, this once
            rows.append(f"    gift card code: {grouped(card.code)}")
    rows.append("")
    rows.append(f"Subtotal: {money(sale.subtotal_cents)}")
    if sale.discount_cents:
        rows.append(f"Discount: -{money(sale.discount_cents)}")
    rows.append(f"Tax: {money(sale.tax_cents)}")
    rows.append(f"Total: {money(sale.total_cents)}")
    tenders = [t for t in sale.payments if t.status == PaymentStatus.SUCCEEDED]
    if len(tenders) > 1 or sale.payment_method not in (PaymentMethod.CASH, PaymentMethod.CARD):
        # Several tenders (split): each with its amount, as the desk's receipt lists them.
        from pos.services.sales.receipt import tender_label

        for tender in tenders:
            rows.append(f"Paid by: {tender_label(tender.method, tender.card_brand, tender.last4)}"
                        f"  {money(tender.amount_cents)}")
    else:
        method = "Cash" if sale.payment_method == PaymentMethod.CASH else \
            (getattr(sale.card_payment, "card_brand", None) or "card").replace("_", " ").title()
        if sale.card_last4:
            method += f" ending {sale.card_last4}"
        rows.append(f"Paid by: {method}")
    if sale.payment_method == PaymentMethod.CASH and sale.cash_tendered_cents is not None:
        rows.append(f"Tendered: {money(sale.cash_tendered_cents)}")
        rows.append(f"Change: {money(sale.cash_tendered_cents - sale.total_cents)}")
    rows += ["", clinic.receipt_footer or "Thank you."]
    return "\n".join(rows) + "\n"


def _queue_receipt_email(session: Session, sale: Sale) -> None:
    client = session.get(Client, sale.client_id) if sale.client_id is not None else None
    if client is None or not client.email:
        return
    # Written inside the sale's transaction, by whichever path paid it: the clinic row is
    # cached per process, the currency is the app's (bound to this session's engine).
    clinic, currency = clinic_settings(session), settings_for(session).currency
    session.add(OutboxMessage(
        channel="email", topic="receipt", dedupe_key=f"receipt:sale:{sale.id}",
        recipients=client.email,
        subject=f"{clinic.clinic_name} receipt #{sale.receipt_number}",
        body=receipt_text(sale, clinic, currency, cashier=_cashier_name(session, sale),
                          client_name=client.full_name), attachments=[]))


def _cashier_name(session: Session, sale: Sale) -> str | None:
    # Usually in the identity map already (the signed-in user who sold it): no SELECT.
    user = session.get(User, sale.sold_by_id) if sale.sold_by_id is not None else None
    return user.name if user is not None else None


def get_sale(session: Session, sale_id: int) -> Sale:
    sale = session.get(Sale, sale_id)
    if sale is None:
        raise NotFound(f"There is no sale {sale_id}.", {"sale_id": sale_id})
    return sale


# -- closing unpaid card sales ------------------------------------------------------------

# What becomes of a card tender still pending when its sale is closed unpaid.
_TENDER_STATUS_ON_CLOSE = {SaleStatus.EXPIRED: PaymentStatus.CANCELLED,
                           SaleStatus.VOID: PaymentStatus.CANCELLED,
                           SaleStatus.CANCELLED: PaymentStatus.CANCELLED,
                           SaleStatus.FAILED: PaymentStatus.FAILED}


def release_and_close(session: Session, sale: Sale, status: SaleStatus) -> None:
    stocks = ledger.lock_items(session, held_quantities(sale), sale.location_id)
    for item_id, quantity in held_quantities(sale).items():
        ledger.release_hold(session, stocks[item_id], quantity)
    if sale.discount_code_id is not None:
        discount = session.scalar(select(DiscountCode).where(
            DiscountCode.id == sale.discount_code_id).with_for_update()
            .execution_options(populate_existing=True))
        if discount is not None and discount.times_used > 0:
            discount.times_used -= 1
    sale.status = status
    sale.closed_at = clock.now()
    sale.checkout_url = None
    for tender in sale.payments:
        if tender.status == PaymentStatus.PENDING:
            tender.status = _TENDER_STATUS_ON_CLOSE[status]
    session.flush()


# A card payment that fails or expires ends only its tender when others were taken.
_TENDER_ENDS = {SaleStatus.EXPIRED: PaymentStatus.CANCELLED,
                SaleStatus.FAILED: PaymentStatus.FAILED}


def _end_card_tender_only(session: Session, sale: Sale, status: SaleStatus,
                          user_id: int | None) -> bool:
    from pos.services.sales.tenders import end_card_tender

    return end_card_tender(session, sale, _TENDER_ENDS[status], user_id)


def close_unpaid(sale_id: int, status: SaleStatus, user_id: int | None, *, action: str,
                  event_id: str | None = None, event_type: str = "") -> str:
    try:
        with write_transaction() as session:
            if event_id is not None and not claim_event(session, event_id, event_type):
                return "duplicate"
            sale = lock_sale(session, sale_id)
            if sale is None:
                return "unknown_sale"
            if sale.status != SaleStatus.AWAITING_PAYMENT:
                return f"already_{sale.status}"
            if status in _TENDER_ENDS and _end_card_tender_only(session, sale, status,
                                                                 user_id):
                return f"tender_{_TENDER_ENDS[status]}"
            release_and_close(session, sale, status)
            audit.record(session, user_id, action, "sale", sale.id, status=status)
            return status
    except IntegrityError:
        return "duplicate"


def claim_event(session: Session, event_id: str, event_type: str) -> bool:
    """Record the event; False when it was processed before. A concurrent twin waits on the
    primary key and then fails with IntegrityError, which callers treat as a duplicate."""
    if session.get(ProcessedEvent, event_id) is not None:
        return False
    session.add(ProcessedEvent(event_id=event_id, type=event_type[:80]))
    session.flush()
    return True


def tender_of_session(session: Session, checkout_session_id: str | None) -> Payment | None:
    """The tender the app created for this Checkout Session: the one way an event finds its
    sale (the event's metadata.sale_id is only a cross-check)."""
    if not checkout_session_id:
        return None
    return session.scalar(select(Payment).where(
        Payment.checkout_session_id == checkout_session_id))


def sale_id_of_session(checkout_session_id: str | None) -> int | None:
    tender = tender_of_session(db.session(), checkout_session_id)
    return tender.sale_id if tender is not None else None


def take_stock(session: Session, sale: Sale, *, from_hold: bool) -> None:
    stocks = ledger.lock_items(session, held_quantities(sale), sale.location_id)
    today = clock.today()
    for item_id, quantity in held_quantities(sale).items():
        ledger.consume_fefo(session, stocks[item_id], quantity, today, "sale",
                            sku=stocks[item_id].item.sku, reference=f"sale:{sale.id}",
                            user_id=sale.sold_by_id, from_held=quantity if from_hold else 0)

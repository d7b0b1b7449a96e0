"""The receipt of a paid sale, as the page, the printout and the e-mail show it: the
clinic (name, address, phone, tax id), the number, the cashier, the client's name, the
lines with each package's sessions left, the tenders with card brand and last 4, and any
refund. `email_receipt` sends it again, to the client's own address only.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos.domain.clinic import ClinicSettings
from pos.domain.errors import NotFound, PosError
from pos.domain.money import format_cents
from pos.domain.statuses import (
    COUNTED_REFUND_STATUSES,
    PaymentMethod,
    PaymentStatus,
    SaleRefundStatus,
    SaleStatus,
    sale_refund_status,
)
from pos.models import Client, OutboxMessage, PackagePurchase, Refund, Sale, User
from pos.models.sales import GIFT_CARD_CATEGORY
from pos.services import audit, clock, gift_cards
from pos.services.clinic import clinic_settings
from pos.services.transaction import write_transaction


class SaleNotPaid(PosError):
    code = "sale_not_paid"
    status = 409


class ClientHasNoEmail(PosError):
    code = "client_has_no_email"
    status = 422


@dataclass(frozen=True)
class Receipt:
    sale: Sale
    clinic: ClinicSettings
    cashier: str | None
    client_name: str | None
    # Sale line id -> sessions left on each package purchase it made.
    sessions_left: dict[int, list[int]]
    refunds: list[Refund]
    refund_status: SaleRefundStatus
    # Sale line id -> the whole code of the gift card it sold (shown here only).
    gift_card_codes: dict[int, str] = field(default_factory=dict)

    @property
    def refunded_cents(self) -> int:
        return sum(r.amount_cents for r in self.refunds if r.status in COUNTED_REFUND_STATUSES)


def tender_label(method: str, card_brand: str | None, last4: str | None) -> str:
    """"Visa ending 4242", "Cash"; a card reader's tender: "Visa ending 4242 (reader)"."""
    if method == PaymentMethod.TERMINAL:
        return f"{tender_label(PaymentMethod.CARD, card_brand, last4)} (reader)"
    if method != PaymentMethod.CARD:
        label = method.replace("_", " ").capitalize()
        return f"{label} ending {last4}" if last4 else label
    label = (card_brand or "card").replace("_", " ").title()
    return f"{label} ending {last4}" if last4 else label


def load_receipt(session: Session, sale: Sale) -> Receipt:
    cashier = session.get(User, sale.sold_by_id) if sale.sold_by_id is not None else None
    client = session.get(Client, sale.client_id) if sale.client_id is not None else None
    sessions_left: dict[int, list[int]] = {}
    package_lines = [line.id for line in sale.lines if line.package_id is not None]
    if package_lines:
        for purchase in session.scalars(select(PackagePurchase).where(
                PackagePurchase.sale_line_id.in_(package_lines)).order_by(PackagePurchase.id)):
            sessions_left.setdefault(purchase.sale_line_id, []).append(purchase.sessions_left)
    refunds = list(session.scalars(select(Refund).where(Refund.sale_id == sale.id)
                                   .order_by(Refund.id)))
    gift_card_codes = {line.id: code for line in sale.lines
                       if line.category == GIFT_CARD_CATEGORY
                       and (code := gift_cards.code_for_receipt(session, line.id))}
    counted = [r for r in refunds if r.status in COUNTED_REFUND_STATUSES]
    return Receipt(sale=sale, clinic=clinic_settings(session),
                   cashier=cashier.name if cashier is not None else None,
                   client_name=client.full_name if client is not None else None,
                   sessions_left=sessions_left, refunds=refunds,
                   refund_status=sale_refund_status(
                       sale.total_cents, sum(r.amount_cents for r in counted), len(counted)),
                   gift_card_codes=gift_card_codes)


def receipt_text(receipt: Receipt, currency: str) -> str:
    """The whole receipt as plain text (the e-mail)."""
    sale, clinic = receipt.sale, receipt.clinic
    money = lambda cents: format_cents(cents, currency)  # noqa: E731
    rows = [clinic.clinic_name]
    rows += [part for part in (clinic.address, clinic.phone) if part]
    if clinic.tax_id:
        rows.append(f"Tax id: {clinic.tax_id}")
    rows += ["", f"Receipt #{sale.receipt_number}",
             f"Date: {clock.clinic_date(sale.paid_at or clock.now(), clinic.zone).isoformat()}"]
    if receipt.cashier:
        rows.append(f"Cashier: {receipt.cashier}")
    if receipt.client_name:
        rows.append(f"Client: {receipt.client_name}")
    rows.append("")
    for line in sale.lines:
        rows.append(f"{line.quantity} x {line.name}  {money(line.subtotal_cents)}")
        if line.id in receipt.gift_card_codes:
            rows.append(f"    gift card code: {receipt.gift_card_codes[line.id]}")
        for left in receipt.sessions_left.get(line.id, []):
            rows.append(f"    sessions left: {left}")
    rows.append("")
    rows.append(f"Subtotal: {money(sale.subtotal_cents)}")
    if sale.discount_cents:
        rows.append(f"Discount: -{money(sale.discount_cents)}")
    if getattr(sale, "manual_discount_cents", 0):
        rows.append(f"  incl. Manual discount ({sale.manual_discount_reason}): "
                    f"-{money(sale.manual_discount_cents)}")
    rows.append(f"Tax: {money(sale.tax_cents)}")
    rows.append(f"Total: {money(sale.total_cents)}")
    for tender in sale.payments:
        if tender.status != PaymentStatus.SUCCEEDED:
            continue  # a split sale's card payment that failed paid nothing
        rows.append(f"Paid by: {tender_label(tender.method, tender.card_brand, tender.last4)}"
                    f"  {money(tender.amount_cents)}")
    if sale.cash_tendered_cents is not None:
        rows.append(f"Tendered: {money(sale.cash_tendered_cents)}")
        rows.append(f"Change: {money(sale.cash_tendered_cents - sale.total_cents)}")
    for refund in receipt.refunds:
        if refund.status in COUNTED_REFUND_STATUSES:
            number = f" #{refund.receipt_number}" if refund.receipt_number else ""
            to = ", to account credit" if refund.to_credit else ""
            rows.append(f"Refund{number}: -{money(refund.amount_cents)} ({refund.reason}{to})")
    if receipt.refund_status != SaleRefundStatus.NONE:
        rows.append(f"Refunded: {receipt.refund_status.value}")
    rows += ["", clinic.receipt_footer or "Thank you."]
    return "\n".join(rows) + "\n"


def email_receipt(sale_id: int, user_id: int | None, currency: str) -> str:
    """Queue the receipt to the client's own address (never anyone else's); returns it.

    Delivered by the outbox like every mail (`pos worker`); each request queues one more
    message (a resend is asked for on purpose)."""
    with write_transaction() as session:
        sale = session.get(Sale, sale_id)
        if sale is None:
            raise NotFound(f"There is no sale {sale_id}.", {"sale_id": sale_id})
        if sale.status != SaleStatus.PAID:
            raise SaleNotPaid(f"Sale {sale_id} is not paid, so it has no receipt.",
                              {"sale_id": sale_id, "status": sale.status})
        client = session.get(Client, sale.client_id) if sale.client_id is not None else None
        if client is None or not client.email:
            raise ClientHasNoEmail(
                "This sale's client has no email address: add one to the client first."
                if client is not None else "This sale has no client to email.",
                {"sale_id": sale_id})
        receipt = load_receipt(session, sale)
        session.add(OutboxMessage(
            channel="email", topic="receipt",
            dedupe_key=f"receipt:sale:{sale.id}:again:{secrets.token_hex(8)}",
            recipients=client.email,
            subject=f"{receipt.clinic.clinic_name} receipt #{sale.receipt_number}",
            body=receipt_text(receipt, currency), attachments=[]))
        # The audit names the sale, not the address (contact data stays out of it).
        audit.record(session, user_id, "sale.receipt_emailed", "sale", sale.id)
        return client.email

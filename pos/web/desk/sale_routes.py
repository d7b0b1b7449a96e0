"""A sale's page, its payment status (polled while the client pays), its receipt and the
actions on it: refund and same-day void [manager], cancel an unpaid card sale or take its
cart in cash instead, email the receipt again [front_desk]. On the desk blueprint (url
names `desk.*`), kept apart from the checkout; each action is the twin of an API endpoint
(POST /api/v1/sales/{id}/refunds, /void, /cancel, /receipt-email)."""
from __future__ import annotations

import re

import segno
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from pos.domain.errors import NotFound, PosError
from pos.domain.limits import MAX_ID
from pos.domain.money import parse_cents
from pos.domain.statuses import SaleStatus
from pos.extensions import db
from pos.models import Sale, TerminalReader, User
from pos.services import clock, credit, refunds, series_refunds, voids
from pos.services.sales import cancelling, tenders
from pos.services.sales import receipt as receipts
from pos.services.sales.receipt import load_receipt, tender_label
from pos.web import current_settings
from pos.web.access import role_required
from pos.web.desk.forms import RefundForm
from pos.web.desk.routes import STATUS_LABELS, _json_error, _money, _sale_or_404, desk_bp
from pos.web.transactions.forms import (
    AddTenderForm,
    CancelSaleForm,
    EmailReceiptForm,
    TakeCashForm,
    VoidSaleForm,
)

# -- a sale, its payment, its receipt, its refunds ---------------------------------------

def _qr_svg(url: str) -> Markup:
    # segno writes plain SVG elements and attributes (no inline style or script), which
    # the Content-Security-Policy allows as markup in the page.
    svg = segno.make(url, error="m").svg_inline(scale=4, svgclass="qr", title="Payment page")
    return Markup(svg)  # noqa: S704 - segno's own output, the url only as QR modules


@desk_bp.get("/sales/<int:sale_id>")
@role_required("front_desk")
def sale_page(sale_id: int):  # type: ignore[no-untyped-def]
    sale = _sale_or_404(sale_id)
    return _render_sale(sale, RefundForm(formdata=None), 200)


def _voidable_today(sale: Sale) -> bool:
    """Offered to a manager on a sale paid today (the service checks it again)."""
    return (sale.status == SaleStatus.PAID and sale.paid_at is not None
            and clock.clinic_date(sale.paid_at) == clock.today()
            and current_user.has_role("manager"))


def _tender_form(sale: Sale, form: AddTenderForm | None = None) -> AddTenderForm:
    """The form that adds a payment, the balance as its amount; tips go to a provider.
    "Card reader" is offered when the sale's location has readers, "Account credit" when
    the sale's client has credit (its balance shown)."""
    if form is None:
        form = AddTenderForm(formdata=None, prefix="tender")
        form.amount.data = f"{sale.balance_cents / 100:.2f}"
    readers = list(db.session.scalars(select(TerminalReader).where(
        TerminalReader.location_id == sale.location_id).order_by(TerminalReader.label)))
    form.reader.choices = [(reader.id, reader.label) for reader in readers]
    choices = [("cash", "Cash"), ("card", "Card (QR code)")]
    if readers:
        choices.append(("terminal", "Card reader"))
    held = credit.balance(db.session(), sale.client_id) if sale.client_id is not None else 0
    if held > 0:
        choices.append(("account_credit", f"Account credit ({_money(held)})"))
    form.method.choices = [*choices, ("gift_card", "Gift card"),
                           ("external_card", "External card machine")]
    form.tip_provider.choices = [(0, "—")] + [
        (user.id, user.name) for user in db.session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.name))
        if user.has_role("provider")]
    return form


def _render_sale(sale: Sale, form: RefundForm, status: int, refund_error: str | None = None,  # type: ignore[no-untyped-def]
                 *, cash_form: TakeCashForm | None = None, action_error: str | None = None,
                 void_form: VoidSaleForm | None = None,
                 tender_form: AddTenderForm | None = None, tender_error: str | None = None):
    awaiting = sale.status == SaleStatus.AWAITING_PAYMENT
    split = awaiting and tenders.is_split(sale) or (awaiting and not sale.payments)
    qr = _qr_svg(sale.checkout_url) if awaiting and sale.checkout_url else None
    details = load_receipt(db.session(), sale)
    client = sale.client
    unused = ({line.id: series_refunds.refundable_sessions(db.session(), line)
               for line in sale.lines if line.package_id is not None}
              if sale.status == SaleStatus.PAID else {})
    reader_tender = sale.terminal_payment if awaiting else None
    return render_template(
        "desk/sale.html", sale=sale, qr=qr, form=form, receipt=details,
        unused_sessions=unused,
        refunds=details.refunds, refund_error=refund_error, action_error=action_error,
        status_label=STATUS_LABELS.get(sale.status, sale.status), tender_label=tender_label,
        can_refund=current_user.has_role("manager") and sale.status == SaleStatus.PAID,
        cancel_form=CancelSaleForm(formdata=None, prefix="cancel") if awaiting else None,
        cash_form=(cash_form or TakeCashForm(formdata=None, prefix="cash"))
        if awaiting else None,
        void_form=(void_form or VoidSaleForm(formdata=None, prefix="void"))
        if _voidable_today(sale) else None,
        # Also while awaiting: the page turns to paid in place, offering it then.
        email_form=EmailReceiptForm(formdata=None, prefix="email")
        if sale.status in (SaleStatus.PAID, SaleStatus.AWAITING_PAYMENT) else None,
        client_email=client.email if client is not None else None,
        reader_tender=reader_tender,
        reader=db.session.get(TerminalReader, reader_tender.reader_id)
        if reader_tender is not None and reader_tender.reader_id else None,
        split=split, tender_error=tender_error,
        tender_form=_tender_form(sale, tender_form) if split else None,
        card_pending=any(p.status == "pending" for p in sale.payments)), status


@desk_bp.post("/sales/<int:sale_id>/payments")
@role_required("front_desk")
def add_payment(sale_id: int):  # type: ignore[no-untyped-def]
    sale = _sale_or_404(sale_id)
    form = _tender_form(sale, AddTenderForm(prefix="tender"))
    if not form.validate_on_submit():
        return _render_sale(sale, RefundForm(formdata=None), 422, tender_form=form,
                            tender_error="Check the payment's fields.")
    tip = form.tip.cents or 0
    method = form.method.data or ""
    tipped = method in tenders.TIPPED_METHODS
    tender = tenders.Tender(
        method=method, amount_cents=form.amount.cents or 0,
        cash_tendered_cents=form.cash_tendered.cents if method == "cash" else None,
        tip_cents=tip if tipped else 0,
        tip_provider_id=(form.tip_provider.data or None) if tip and tipped else None,
        last4=form.last4.data or None, auth_code=form.auth_code.data or None,
        reader_id=(form.reader.data or None) if method == "terminal" else None,
        code=(form.gift_code.data or None) if method == "gift_card" else None)
    try:
        tenders.add_tender(sale_id, tender, user_id=current_user.id,
                           settings=current_settings(), base_url=request.url_root)
    except PosError as error:
        db.session.rollback()
        return _render_sale(_sale_or_404(sale_id), RefundForm(formdata=None), error.status,
                            tender_form=form, tender_error=error.message)
    flash(f"{_money(tender.amount_cents)} added.")
    return redirect(url_for("desk.sale_page", sale_id=sale_id))


@desk_bp.get("/desk/sales/<int:sale_id>/status.json")
@role_required("front_desk")
def sale_status(sale_id: int):  # type: ignore[no-untyped-def]
    sale = db.session.get(Sale, sale_id) if 0 < sale_id <= MAX_ID else None
    if sale is None:
        return _json_error(NotFound(f"There is no sale {sale_id}.", {"sale_id": sale_id}))
    return jsonify({"id": sale.id, "status": sale.status,
                    "label": STATUS_LABELS.get(sale.status, sale.status),
                    "receipt_number": sale.receipt_number, "card_last4": sale.card_last4,
                    "flag": sale.flag,
                    "last_error": sale.terminal_payment.last_error
                    if sale.terminal_payment is not None else None,
                    "receipt_url": url_for("desk.receipt", sale_id=sale.id)
                    if sale.status == "paid" else None})


@desk_bp.get("/sales/<int:sale_id>/receipt")
@role_required("front_desk")
def receipt(sale_id: int):  # type: ignore[no-untyped-def]
    sale = _sale_or_404(sale_id)
    if sale.status != "paid":
        return render_template("desk/receipt.html", sale=sale, paid=False), 409
    return render_template("desk/receipt.html", sale=sale, paid=True,
                           receipt=load_receipt(db.session(), sale), tender_label=tender_label,
                           change_cents=sale.cash_tendered_cents - sale.total_cents
                           if sale.cash_tendered_cents is not None else None)


@desk_bp.post("/sales/<int:sale_id>/refunds")
@role_required("manager")
def refund(sale_id: int):  # type: ignore[no-untyped-def]
    sale = _sale_or_404(sale_id)
    form = RefundForm()
    if not form.validate_on_submit():
        return _render_sale(sale, form, 422)
    lines: list[tuple[int, int]] = []
    sessions: list[tuple[int, int]] = []
    for line in sale.lines:
        for prefix, what, chosen in (("qty", "quantity", lines),
                                     ("sessions", "sessions", sessions)):
            text = (request.form.get(f"{prefix}-{line.id}") or "0").strip()
            if not re.fullmatch(r"[0-9]{1,7}", text):
                return _render_sale(sale, form, 422,
                                    f"The {what} for {line.name} must be a whole number.")
            if int(text) > 0:
                chosen.append((line.id, int(text)))
    if not lines and not sessions:
        return _render_sale(sale, form, 422, "Choose how many of which line to refund.")
    to_credit = form.refund_to.data == "credit"
    try:
        amount = parse_cents(form.amount.data) if form.amount.data else None
        made = refunds.refund_sale(sale.id, lines, sessions=sessions,
                                   restock=bool(form.restock.data), amount_cents=amount,
                                   to_credit=to_credit, reason=form.reason.data or "",
                                   user_id=current_user.id)
    except PosError as error:
        db.session.rollback()
        return _render_sale(_sale_or_404(sale_id), form, error.status, error.message)
    where = " to the client's account credit" if to_credit else ""
    flash(f"Refunded {_money(made.amount_cents)}{where} "
          f"(refund receipt #{made.receipt_number}).")
    return redirect(url_for("desk.sale_page", sale_id=sale_id))


# -- ending an unpaid card sale, sending the receipt again ---------------------------------

def _refused(sale_id: int, error: PosError):  # type: ignore[no-untyped-def]
    db.session.rollback()
    return _render_sale(_sale_or_404(sale_id), RefundForm(formdata=None), error.status,
                        action_error=error.message)


@desk_bp.post("/sales/<int:sale_id>/cancel")
@role_required("front_desk")
def cancel(sale_id: int):  # type: ignore[no-untyped-def]
    _sale_or_404(sale_id)
    if not CancelSaleForm(prefix="cancel").validate_on_submit():
        return _render_sale(_sale_or_404(sale_id), RefundForm(formdata=None), 400,
                            action_error="The form expired: try again.")
    try:
        cancelling.cancel_sale(sale_id, current_user.id)
    except PosError as error:
        return _refused(sale_id, error)
    flash("The card payment was cancelled and the items are back on the shelf.")
    return redirect(url_for("desk.sale_page", sale_id=sale_id))


@desk_bp.post("/sales/<int:sale_id>/void")
@role_required("manager")
def void(sale_id: int):  # type: ignore[no-untyped-def]
    _sale_or_404(sale_id)
    form = VoidSaleForm(prefix="void")
    if not form.validate_on_submit():
        return _render_sale(_sale_or_404(sale_id), RefundForm(formdata=None), 422,
                            void_form=form)
    try:
        sale = voids.void_sale(sale_id, current_user.id, form.reason.data or "")
    except PosError as error:
        return _refused(sale_id, error)
    flash(f"Sale #{sale.id} was voided: {_money(sale.total_cents)} given back and the items "
          "returned to the shelf." if sale.paid_at else f"Sale #{sale.id} was voided.")
    return redirect(url_for("desk.sale_page", sale_id=sale_id))


@desk_bp.post("/sales/<int:sale_id>/take-cash")
@role_required("front_desk")
def take_cash(sale_id: int):  # type: ignore[no-untyped-def]
    _sale_or_404(sale_id)
    form = TakeCashForm(prefix="cash")
    if not form.validate_on_submit():
        return _render_sale(_sale_or_404(sale_id), RefundForm(formdata=None), 422,
                            cash_form=form)
    try:
        cash_sale = cancelling.switch_to_cash(sale_id, current_user.id,
                                              settings=current_settings(),
                                              cash_tendered_cents=form.cash_tendered.cents)
    except PosError as error:
        return _refused(sale_id, error)
    flash(f"Card payment cancelled; sale #{cash_sale.id} paid in cash.")
    return redirect(url_for("desk.sale_page", sale_id=cash_sale.id))


@desk_bp.post("/sales/<int:sale_id>/receipt-email")
@role_required("front_desk")
def email_receipt(sale_id: int):  # type: ignore[no-untyped-def]
    _sale_or_404(sale_id)
    if not EmailReceiptForm(prefix="email").validate_on_submit():
        return _render_sale(_sale_or_404(sale_id), RefundForm(formdata=None), 400,
                            action_error="The form expired: try again.")
    try:
        sent_to = receipts.email_receipt(sale_id, current_user.id,
                                         current_settings().currency)
    except PosError as error:
        return _refused(sale_id, error)
    flash(f"The receipt is on its way to {sent_to}.")
    return redirect(url_for("desk.sale_page", sale_id=sale_id))

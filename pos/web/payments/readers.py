"""Card readers (Stripe Terminal) at the desk: the manager's page to register and list them
(twin of GET/POST /api/v1/terminal/readers), "Try again" on a sale's reader payment (twin
of POST /api/v1/sales/{id}/terminal/retry; Cancel is the sale page's cancel, twin of
/terminal/cancel), and the demo reader's "Simulate tap" / "Simulate decline"."""
from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired

from pos.domain.errors import PosError
from pos.domain.limits import MAX_ID
from pos.domain.statuses import PaymentStatus, SaleStatus
from pos.extensions import db
from pos.models import Sale
from pos.payments.demo import DemoGateway
from pos.payments.demo_terminal import DEMO_DECLINE_MESSAGE
from pos.payments.terminal import EVENT_INTENT_SUCCEEDED, EVENT_READER_FAILED, TerminalEvent
from pos.services import terminal_readers
from pos.services.sales import terminal as sale_terminal
from pos.services.sales import terminal_settlement
from pos.web import current_settings
from pos.web.access import role_required
from pos.web.form_rules import SafeText, strip
from pos.web.payments.routes import payments_bp


class ReaderForm(FlaskForm):
    registration_code = StringField("Registration code", validators=[
        DataRequired("Type the code the reader shows."), SafeText(100)], filters=[strip])
    label = StringField("Name it (e.g. Front desk)", validators=[
        DataRequired("Give the reader a name."), SafeText(100)], filters=[strip])
    submit = SubmitField("Register the reader")


def _readers_page(form: ReaderForm, status: int, error: str | None = None):  # type: ignore[no-untyped-def]
    return render_template("terminal/readers.html", form=form, error=error,
                           readers=terminal_readers.list_readers(),
                           demo=not current_settings().stripe_secret_key), status


@payments_bp.get("/terminal/readers")
@role_required("manager")
def readers_page():  # type: ignore[no-untyped-def]
    return _readers_page(ReaderForm(formdata=None), 200)


@payments_bp.post("/terminal/readers")
@role_required("manager")
def register_reader():  # type: ignore[no-untyped-def]
    form = ReaderForm()
    if not form.validate_on_submit():
        return _readers_page(form, 422)
    try:
        reader = terminal_readers.register_reader(
            form.registration_code.data or "", form.label.data or "", current_user.id,
            current_settings().currency)
    except PosError as error:
        db.session.rollback()
        return _readers_page(form, error.status, error.message)
    flash(f"The reader “{reader.label}” is registered.")
    return redirect(url_for("payments.readers_page"))


def _reader_sale(sale_id: int) -> Sale:
    sale = db.session.get(Sale, sale_id) if 0 < sale_id <= MAX_ID else None
    if sale is None or sale.terminal_payment is None:
        abort(404, "There is no card reader payment for this sale.")
    return sale


@payments_bp.post("/sales/<int:sale_id>/terminal/retry")
@role_required("front_desk")
def retry_reader(sale_id: int):  # type: ignore[no-untyped-def]
    _reader_sale(sale_id)
    if not FlaskForm().validate_on_submit():
        abort(400, "The form expired: try again.")
    try:
        sale_terminal.retry(sale_id, current_user.id, current_settings().currency)
    except PosError as error:
        db.session.rollback()
        flash(error.message)
    return redirect(url_for("desk.sale_page", sale_id=sale_id))


@payments_bp.post("/demo-terminal/<int:sale_id>")
@role_required("front_desk")
def demo_reader(sale_id: int):  # type: ignore[no-untyped-def]
    """The demo reader's client: approve (a tap) or decline, through the same settlement
    code a signed Stripe event runs."""
    sale = _reader_sale(sale_id)
    tender = sale.terminal_payment
    assert tender is not None
    decision = request.form.get("decision")
    if sale.gateway != DemoGateway.name or decision not in ("approve", "decline"):
        abort(400, "Simulate a tap or a decline on a demo reader.")
    if not FlaskForm().validate_on_submit():
        abort(400, "The form expired: try again.")
    if sale.status != SaleStatus.AWAITING_PAYMENT or tender.status != PaymentStatus.PENDING \
            or tender.payment_intent_id is None:
        return redirect(url_for("desk.sale_page", sale_id=sale_id))
    intent_id, event_id = tender.payment_intent_id, f"demo_evt_{secrets.token_hex(8)}"
    if decision == "approve":
        event = TerminalEvent(
            id=event_id, type=EVENT_INTENT_SUCCEEDED, payment_intent_id=intent_id,
            intent=DemoGateway.demo_intent(tender.id, sale.id,
                                           tender.amount_cents + tender.tip_cents,
                                           intent_id, paid=True))
    else:
        event = TerminalEvent(id=event_id, type=EVENT_READER_FAILED, intent=None,
                              payment_intent_id=intent_id,
                              failure_message=DEMO_DECLINE_MESSAGE)
    db.session.rollback()
    terminal_settlement.handle_terminal_event(event)
    return redirect(url_for("desk.sale_page", sale_id=sale_id))

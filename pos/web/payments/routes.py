"""POST /stripe/webhook, GET/POST /demo-pay/<session id>, and the after-payment pages.

The webhook verifies Stripe's signature on the raw body before anything else; a bad,
missing or stale signature is a 400 and changes nothing. A correctly signed event whose
fields cannot be used (`"NaN"` for an amount, a 20-digit sale id, an id longer than its
column) is a 422 `invalid_event` and changes nothing either: Stripe retries any non-2xx
for up to three days, which is harmless here (each retry is refused the same way, and the
failures stay visible in Stripe's dashboard for someone to look at). Every handled event,
duplicates included, is answered 2xx so Stripe stops retrying; the idempotency lives in
`sales.fulfil_checkout` (each event id once, the sale row locked).
"""
from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from pos.domain.statuses import SaleStatus
from pos.extensions import csrf, db
from pos.models import Sale
from pos.payments.demo import DemoGateway, demo_session_sale_id
from pos.payments.factory import current_gateway
from pos.payments.gateway import (
    EVENT_ASYNC_PAYMENT_FAILED,
    EVENT_CHECKOUT_COMPLETED,
    InvalidSignature,
    PaymentEvent,
    UnusableEvent,
)
from pos.payments.terminal import TerminalEvent
from pos.services import sales
from pos.services.sales import terminal_settlement
from pos.web import error_response
from pos.web.access import role_required

log = logging.getLogger("pos.payments")

payments_bp = Blueprint("payments", __name__)

@payments_bp.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook():  # type: ignore[no-untyped-def]
    payload = request.get_data(cache=False)
    try:
        event = current_gateway().parse_event(payload, request.headers.get("Stripe-Signature"))
    except InvalidSignature as error:
        return error_response(400, "invalid_signature",
                              f"The webhook signature was not accepted: {error}.")
    except UnusableEvent as error:
        log.warning("webhook refused: %s", error)  # field names only, never values
        return error_response(422, "invalid_event", f"The event cannot be used: {error}.")
    if event is None:
        return jsonify({"received": True, "result": "ignored"}), 200
    if isinstance(event, TerminalEvent):  # a card reader's payment_intent.* / reader.*
        result = terminal_settlement.handle_terminal_event(event)
    else:
        result = sales.handle_payment_event(event)
    log.info("webhook %s %s: %s", event.type, event.id, result)
    return jsonify({"received": True, "result": result}), 200


def _demo_sale(session_id: str) -> Sale:
    sale_id = demo_session_sale_id(session_id)
    sale = db.session.get(Sale, sale_id) if sale_id is not None else None
    if sale is None or sale.gateway != DemoGateway.name or \
            sale.checkout_session_id not in (None, session_id):  # its card tender's
        abort(404, "There is no such demo payment.")
    return sale


@payments_bp.get("/demo-pay/<session_id>")
@role_required("front_desk")
def demo_pay(session_id: str):  # type: ignore[no-untyped-def]
    sale = _demo_sale(session_id[:100])
    return render_template("payments/demo_pay.html", sale=sale, session_id=session_id)


@payments_bp.post("/demo-pay/<session_id>")
@role_required("front_desk")
def demo_pay_decide(session_id: str):  # type: ignore[no-untyped-def]
    sale = _demo_sale(session_id[:100])
    decision = request.form.get("decision")
    if decision not in ("approve", "decline"):
        abort(400, "Approve or decline the demo payment.")
    gateway = DemoGateway()
    if sale.status != SaleStatus.AWAITING_PAYMENT:  # already settled: nothing to decide
        return redirect(url_for("payments.demo_pay", session_id=session_id))
    if decision == "approve":
        if gateway.retrieve_checkout(session_id).status == "expired":
            sales.expire_checkout_sale(sale.id, user_id=current_user.id)
            return redirect(url_for("payments.demo_pay", session_id=session_id))
        checkout = gateway.paid_session(session_id, sale.id, sale.total_cents, sale.expires_at)
        event = PaymentEvent(id=f"demo_evt_{session_id}_paid", type=EVENT_CHECKOUT_COMPLETED,
                             session=checkout)
    else:
        checkout = gateway.retrieve_checkout(session_id)
        event = PaymentEvent(id=f"demo_evt_{session_id}_declined",
                             type=EVENT_ASYNC_PAYMENT_FAILED, session=checkout)
    db.session.rollback()
    # The very same code path a signed Stripe event takes.
    sales.handle_payment_event(event)
    return redirect(url_for("payments.demo_pay", session_id=session_id))


@payments_bp.get("/payments/done")
def done():  # type: ignore[no-untyped-def]
    """Where the gateway sends the client after paying (on their phone: no login)."""
    return render_template("payments/done.html", paid=True)


@payments_bp.get("/payments/cancelled")
def cancelled():  # type: ignore[no-untyped-def]
    return render_template("payments/done.html", paid=False)

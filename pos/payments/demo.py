"""The demo gateway: the whole card flow without Stripe keys, and no money moves.

`create_checkout` points the client at the app's own `/demo-pay/<session id>` page, where
the payment can be approved or declined; that page builds the same CheckoutSession and
PaymentEvent a Stripe webhook would and runs the very same fulfilment code. A demo
session's state is read back from the sale row (`retrieve_checkout`), so the sweep and
reconciliation work in demo mode too.
"""
from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask import has_request_context, request

from pos.domain.statuses import SaleStatus
from pos.payments.demo_terminal import DemoTerminalMixin
from pos.payments.gateway import (
    CheckoutRequest,
    CheckoutSession,
    GatewayError,
    InvalidSignature,
    PaymentEvent,
    validate_checkout_request,
)

DEMO_CARD_LAST4 = "4242"


def demo_session_sale_id(session_id: str) -> int | None:
    """`demo_cs_<sale id>_<random>` -> the sale id (None if it is not a demo session id)."""
    parts = session_id.split("_")
    # ASCII digits of an id the sales.id column can hold: a longer number would reach the
    # database as an out-of-range integer (a 5xx on PostgreSQL) instead of "no such sale".
    if len(parts) != 4 or parts[:2] != ["demo", "cs"] or not parts[2].isascii() \
            or not parts[2].isdigit() or len(parts[2]) > 10 or int(parts[2]) > 2**31 - 1:
        return None
    return int(parts[2])


class DemoGateway(DemoTerminalMixin):
    name = "demo"

    def create_checkout(self, req: CheckoutRequest) -> CheckoutSession:
        validate_checkout_request(req)
        session_id = f"demo_cs_{req.sale_id}_{secrets.token_hex(8)}"
        root = request.url_root.rstrip("/") if has_request_context() else ""
        return CheckoutSession(
            id=session_id, url=f"{root}/demo-pay/{session_id}", status="open",
            payment_status="unpaid", amount_total_cents=req.amount_total_cents,
            currency=req.currency, sale_id=req.sale_id, payment_intent_id=None,
            card_last4=None, expires_at=req.expires_at)

    def retrieve_checkout(self, session_id: str) -> CheckoutSession:
        from pos.extensions import db
        from pos.models import Sale

        sale_id = demo_session_sale_id(session_id)
        sale = db.session.get(Sale, sale_id) if sale_id is not None else None
        if sale is None:
            raise GatewayError(f"No such demo checkout: {session_id[:80]}",
                               code="resource_missing", http_status=404)
        if sale.status == SaleStatus.PAID:
            return self.paid_session(session_id, sale.id, sale.total_cents, sale.expires_at)
        expired = sale.status != SaleStatus.AWAITING_PAYMENT or (
            sale.expires_at is not None and sale.expires_at <= datetime.now(UTC))
        return CheckoutSession(
            id=session_id, url=None if expired else sale.checkout_url,
            status="expired" if expired else "open", payment_status="unpaid",
            amount_total_cents=sale.total_cents, currency=None, sale_id=sale.id,
            payment_intent_id=None, card_last4=None, expires_at=sale.expires_at)

    def expire_checkout(self, session_id: str) -> CheckoutSession:
        current = self.retrieve_checkout(session_id)
        if current.status != "open":
            return current
        return CheckoutSession(**{**current.__dict__, "status": "expired", "url": None})

    def refund(self, payment_intent_id: str, amount_cents: int, idempotency_key: str) -> str:
        if amount_cents <= 0:
            raise ValueError("a refund must be a positive amount of cents")
        return f"demo_re_{secrets.token_hex(8)}"

    def parse_event(self, payload: bytes, signature_header: str | None) -> PaymentEvent | None:
        # Nothing signs events for the demo gateway: whatever reaches the webhook is refused.
        raise InvalidSignature("the demo gateway accepts no webhook events")

    # -- the demo page ------------------------------------------------------------------

    @staticmethod
    def paid_session(session_id: str, sale_id: int, amount_cents: int,
                     expires_at: datetime | None) -> CheckoutSession:
        return CheckoutSession(
            id=session_id, url=None, status="complete", payment_status="paid",
            amount_total_cents=amount_cents, currency=None, sale_id=sale_id,
            payment_intent_id=f"demo_pi_{sale_id}", card_last4=DEMO_CARD_LAST4,
            expires_at=expires_at)

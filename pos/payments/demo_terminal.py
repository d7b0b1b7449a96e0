"""The demo gateway's card reader: the whole Stripe Terminal flow without keys.

A demo reader registers with the code `simulated-wpe` (as Stripe's simulated WisePOS E)
and takes whatever PaymentIntent it is handed; nothing happens until someone at the desk
presses "Simulate tap" (approve) or "Simulate decline" on the payment panel. A button
rather than a delay: the desk (and a browser test) sees both outcomes on purpose, and no
timer thread runs inside the web server. The buttons build the same TerminalEvent a signed
Stripe webhook would and run the very same settlement code (pos/web/payments/routes.py).

A demo PaymentIntent's state is read back from its tender (`retrieve_terminal_intent`),
so reconciliation works in demo mode too. Demo intents carry no currency (as demo
checkouts do): the settlement then checks the amount only.
"""
from __future__ import annotations

import secrets

from pos.payments.gateway import GatewayError
from pos.payments.terminal import ReaderInfo, TerminalIntent, TerminalIntentRequest

DEMO_REGISTRATION_CODE = "simulated-wpe"
DEMO_DECLINE_MESSAGE = "Your card was declined."
DEMO_READER_LAST4 = "4242"


class DemoTerminalMixin:
    def create_terminal_location(self, display_name: str, country: str) -> str:
        return f"demo_tml_{secrets.token_hex(8)}"

    def register_reader(self, registration_code: str, label: str, location_id: str
                        ) -> ReaderInfo:
        if registration_code != DEMO_REGISTRATION_CODE:
            raise GatewayError(
                f"The demo reader's registration code is {DEMO_REGISTRATION_CODE}.",
                code="invalid_registration_code", http_status=400)
        return ReaderInfo(id=f"demo_tmr_{secrets.token_hex(8)}", label=label,
                          location_id=location_id, device_type="simulated_wisepos_e",
                          status="online")

    def create_terminal_intent(self, req: TerminalIntentRequest) -> TerminalIntent:
        return TerminalIntent(
            id=f"demo_pi_{req.payment_id}_{secrets.token_hex(6)}",
            status="requires_payment_method", amount_cents=req.amount_cents,
            amount_received_cents=0, currency=None, sale_id=req.sale_id,
            payment_id=req.payment_id)

    def process_on_reader(self, reader_id: str, payment_intent_id: str) -> None:
        return None  # the desk's "Simulate tap" / "Simulate decline" decide

    def cancel_reader_action(self, reader_id: str) -> None:
        return None

    def cancel_terminal_intent(self, payment_intent_id: str) -> TerminalIntent:
        current = self.retrieve_terminal_intent(payment_intent_id)
        if current.status == "succeeded":
            return current
        return TerminalIntent(**{**current.__dict__, "status": "canceled"})

    def retrieve_terminal_intent(self, payment_intent_id: str) -> TerminalIntent:
        from sqlalchemy import select

        from pos.domain.statuses import PaymentStatus
        from pos.extensions import db
        from pos.models import Payment

        tender = db.session.scalar(select(Payment).where(
            Payment.payment_intent_id == payment_intent_id))
        if tender is None:
            raise GatewayError(f"No such demo payment: {payment_intent_id[:80]}",
                               code="resource_missing", http_status=404)
        return self.demo_intent(tender.id, tender.sale_id, tender.amount_cents,
                                payment_intent_id,
                                paid=tender.status == PaymentStatus.SUCCEEDED)

    @staticmethod
    def demo_intent(payment_id: int, sale_id: int, amount_cents: int, payment_intent_id: str,
                    *, paid: bool) -> TerminalIntent:
        return TerminalIntent(
            id=payment_intent_id, status="succeeded" if paid else "requires_payment_method",
            amount_cents=amount_cents, amount_received_cents=amount_cents if paid else 0,
            currency=None, sale_id=sale_id, payment_id=payment_id,
            card_brand="visa" if paid else None, last4=DEMO_READER_LAST4 if paid else None)

"""The Stripe implementation of PaymentGateway: the only module of the app that imports stripe.

Stripe SDK objects never leave this module: everything is turned into the value types
of gateway.py. Errors from the SDK (Stripe refusing a request, the network failing)
become GatewayError; bad webhook signatures become InvalidSignature.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import stripe

from pos.payments.gateway import (
    HANDLED_EVENT_TYPES,
    CheckoutRequest,
    CheckoutSession,
    GatewayError,
    InvalidSignature,
    PaymentEvent,
    validate_checkout_request,
)

T = TypeVar("T")

# Stripe accepts a Checkout Session's expires_at from 30 minutes to 24 hours ahead of its
# own clock; these margins keep a request made at exactly the limit from being refused.
_MIN_EXPIRY = timedelta(minutes=30, seconds=30)
_MAX_EXPIRY = timedelta(hours=24, seconds=-60)


class StripeGateway:
    name = "stripe"

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        *,
        timeout: float = 10.0,
        max_network_retries: int = 2,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("STRIPE_SECRET_KEY is required for the Stripe gateway")
        if not webhook_secret:
            raise ValueError("STRIPE_WEBHOOK_SECRET is required when STRIPE_SECRET_KEY is set")
        self._webhook_secret = webhook_secret
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=http_client or stripe.RequestsClient(timeout=(5.0, timeout)),
        )

    # -- checkout -----------------------------------------------------------------------

    def create_checkout(self, req: CheckoutRequest) -> CheckoutSession:
        validate_checkout_request(req)
        sale_ref = str(req.sale_id)
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": req.currency.lower(),
                        "unit_amount": line.unit_amount_cents,
                        "product_data": {"name": line.name},
                    },
                    "quantity": line.quantity,
                }
                for line in req.lines
            ],
            "client_reference_id": sale_ref,
            "metadata": {"sale_id": sale_ref},
            "payment_intent_data": {"metadata": {"sale_id": sale_ref}},
            "expires_at": _stripe_expires_at(req.expires_at),
            "success_url": req.success_url,
            "cancel_url": req.cancel_url,
        }
        session = self._call(
            "create the checkout",
            lambda: self._client.v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": req.idempotency_key},
            ),
        )
        return session_from_dict(session.to_dict())

    def retrieve_checkout(self, session_id: str) -> CheckoutSession:
        session = self._call(
            "look up the checkout",
            lambda: self._client.v1.checkout.sessions.retrieve(
                session_id, {"expand": ["payment_intent.latest_charge"]}
            ),
        )
        return session_from_dict(session.to_dict())

    def expire_checkout(self, session_id: str) -> CheckoutSession:
        try:
            session = self._client.v1.checkout.sessions.expire(session_id)
        except stripe.InvalidRequestError as e:
            # Only open sessions can be expired: one already paid or expired is a result
            # too (the client may have paid a moment ago), not an error.
            current = self.retrieve_checkout(session_id)
            if current.status != "open":
                return current
            raise _gateway_error("expire the checkout", e) from None
        except stripe.StripeError as e:
            raise _gateway_error("expire the checkout", e) from None
        return session_from_dict(session.to_dict())

    # -- refunds ------------------------------------------------------------------------

    def refund(self, payment_intent_id: str, amount_cents: int, idempotency_key: str) -> str:
        if amount_cents <= 0:
            raise ValueError("a refund must be a positive amount of cents")
        refund = self._call(
            "refund the payment",
            lambda: self._client.v1.refunds.create(
                {"payment_intent": payment_intent_id, "amount": amount_cents},
                {"idempotency_key": idempotency_key},
            ),
        )
        return str(refund.id)

    # -- webhooks -----------------------------------------------------------------------

    def parse_event(self, payload: bytes, signature_header: str | None) -> PaymentEvent | None:
        try:
            event = stripe.Webhook.construct_event(
                payload, signature_header, self._webhook_secret
            )
        except stripe.SignatureVerificationError as e:
            raise InvalidSignature(_first_sentence(str(e.user_message or e))) from None
        except (ValueError, UnicodeDecodeError):
            raise InvalidSignature("the webhook body is not valid JSON") from None
        data = event.to_dict()
        event_type = str(data.get("type") or "")
        if event_type not in HANDLED_EVENT_TYPES:
            return None
        obj = (data.get("data") or {}).get("object") or {}
        if obj.get("object") != "checkout.session":
            return None
        return PaymentEvent(id=str(data.get("id")), type=event_type, session=session_from_dict(obj))

    # -- helpers ------------------------------------------------------------------------

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except stripe.StripeError as e:
            raise _gateway_error(action, e) from None


def session_from_dict(d: Mapping[str, Any]) -> CheckoutSession:
    """A CheckoutSession from Stripe's JSON shape (a retrieved session or an event's object)."""
    metadata = d.get("metadata") or {}
    payment_intent = d.get("payment_intent")
    card_last4: str | None = None
    if isinstance(payment_intent, Mapping):
        charge = payment_intent.get("latest_charge")
        if isinstance(charge, Mapping):
            card = (charge.get("payment_method_details") or {}).get("card") or {}
            card_last4 = card.get("last4")
        payment_intent = payment_intent.get("id")
    expires_at = d.get("expires_at")
    amount_total = d.get("amount_total")
    return CheckoutSession(
        id=str(d["id"]),
        url=d.get("url"),
        status=str(d.get("status") or ""),
        payment_status=str(d.get("payment_status") or ""),
        amount_total_cents=int(amount_total) if amount_total is not None else None,
        currency=d.get("currency"),
        sale_id=_sale_id(metadata.get("sale_id"), d.get("client_reference_id")),
        payment_intent_id=str(payment_intent) if payment_intent else None,
        card_last4=str(card_last4) if card_last4 else None,
        expires_at=(
            datetime.fromtimestamp(int(expires_at), tz=UTC) if expires_at else None
        ),
    )


def _stripe_expires_at(when: datetime) -> int:
    """Unix seconds, kept inside the window Stripe accepts. A naive datetime is UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    when = min(max(when, now + _MIN_EXPIRY), now + _MAX_EXPIRY)
    return int(when.timestamp())


def _sale_id(*candidates: Any) -> int | None:
    for value in candidates:
        try:
            return int(value)
        except (TypeError, ValueError):
            continue
    return None


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].strip()[:200] or "invalid signature"


def _gateway_error(action: str, e: stripe.StripeError) -> GatewayError:
    """A message safe to show and log: the SDK's error class and Stripe's own wording
    (requests never carry personal data, so neither do Stripe's answers)."""
    status = e.http_status
    if isinstance(e, stripe.APIConnectionError):
        return GatewayError(f"Could not reach Stripe to {action}; please try again.")
    detail = (e.user_message or "").strip()[:300]
    message = f"Stripe could not {action} ({type(e).__name__}, HTTP {status})"
    return GatewayError(
        f"{message}: {detail}" if detail else f"{message}.",
        code=e.code,
        http_status=status,
    )

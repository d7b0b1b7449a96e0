"""The Stripe implementation of PaymentGateway: the only module of the app that imports stripe.

Stripe SDK objects never leave this module: everything is turned into the value types
of gateway.py. Errors from the SDK (Stripe refusing a request, the network failing)
become GatewayError; bad webhook signatures become InvalidSignature.
"""
from __future__ import annotations

import re
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
    UnusableEvent,
    validate_checkout_request,
)

# stripe_terminal reads this module's field checks at call time (a circular import).
from pos.payments.stripe_terminal import StripeTerminalMixin, terminal_event
from pos.payments.terminal import TERMINAL_EVENT_TYPES, TerminalEvent

T = TypeVar("T")

# Stripe accepts a Checkout Session's expires_at from 30 minutes to 24 hours ahead of its
# own clock; these margins keep a request made at exactly the limit from being refused.
_MIN_EXPIRY = timedelta(minutes=30, seconds=30)
_MAX_EXPIRY = timedelta(hours=24, seconds=-60)


class StripeGateway(StripeTerminalMixin):
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
        return _read(session.to_dict())

    def retrieve_checkout(self, session_id: str) -> CheckoutSession:
        session = self._call(
            "look up the checkout",
            lambda: self._client.v1.checkout.sessions.retrieve(
                session_id, {"expand": ["payment_intent.latest_charge"]}
            ),
        )
        return _read(session.to_dict())

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
        return _read(session.to_dict())

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

    def parse_event(self, payload: bytes, signature_header: str | None
                    ) -> PaymentEvent | TerminalEvent | None:
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
        if event_type in TERMINAL_EVENT_TYPES:
            return terminal_event(data)
        if event_type not in HANDLED_EVENT_TYPES:
            return None
        envelope = data.get("data")
        obj = envelope.get("object") if isinstance(envelope, Mapping) else None
        if not isinstance(obj, Mapping) or obj.get("object") != "checkout.session":
            return None
        event_id = _required(_text(data.get("id"), "event id", _ID), "event id")
        return PaymentEvent(id=event_id, type=event_type, session=session_from_dict(obj))

    # -- helpers ------------------------------------------------------------------------

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except stripe.StripeError as e:
            raise _gateway_error(action, e) from None


def session_from_dict(d: Mapping[str, Any]) -> CheckoutSession:
    """A CheckoutSession from Stripe's JSON shape (a retrieved session or an event's object).

    Every field is checked before it can reach a query: a signed body can still carry
    `"NaN"` for an amount, a 20-digit sale id or an id longer than the column, and none of
    those may become a database error. Raises UnusableEvent.
    """
    metadata = d.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise UnusableEvent("metadata is not an object")
    payment_intent = d.get("payment_intent")
    card_last4: str | None = None
    card_brand: str | None = None
    if isinstance(payment_intent, Mapping):
        charge = payment_intent.get("latest_charge")
        if isinstance(charge, Mapping):
            details = charge.get("payment_method_details") or {}
            card = details.get("card") if isinstance(details, Mapping) else None
            if isinstance(card, Mapping):
                card_last4 = _text(card.get("last4"), "card last4", _LAST4)
                card_brand = _text(card.get("brand"), "card brand", _BRAND)
        payment_intent = payment_intent.get("id")
    expires_at = _whole(d.get("expires_at"), "expires_at", _MAX_UNIX_SECONDS)
    return CheckoutSession(
        id=_required(_text(d.get("id"), "id", _ID), "id"),
        url=_text(d.get("url"), "url", _URL),
        status=_text(d.get("status"), "status", _WORD) or "",
        payment_status=_text(d.get("payment_status"), "payment_status", _WORD) or "",
        amount_total_cents=_whole(d.get("amount_total"), "amount_total", _MAX_CENTS),
        currency=_text(d.get("currency"), "currency", _CURRENCY),
        sale_id=_sale_id(metadata.get("sale_id"), d.get("client_reference_id")),
        payment_intent_id=_text(payment_intent, "payment_intent", _ID),
        card_last4=card_last4,
        card_brand=card_brand,
        expires_at=(
            datetime.fromtimestamp(expires_at, tz=UTC) if expires_at else None
        ),
    )


# What a usable field looks like. Stripe's ids are letters, digits and underscores; an id
# must fit its column (255); a sale id must fit the sales.id column.
_ID = re.compile(r"[A-Za-z0-9_]{1,255}")
_WORD = re.compile(r"[a-z_]{1,40}")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_LAST4 = re.compile(r"[0-9]{4}")
_BRAND = re.compile(r"[A-Za-z0-9_ ]{1,20}")
_URL = re.compile(r"https?://[^\x00-\x20]{1,990}")
_MAX_SALE_ID = 2**31 - 1
_MAX_CENTS = 10**15
_MAX_UNIX_SECONDS = 2**33


def _text(value: Any, name: str, pattern: re.Pattern[str]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise UnusableEvent(f"{name} is not usable")
    return value


def _required(value: str | None, name: str) -> str:
    if value is None:
        raise UnusableEvent(f"{name} is missing")
    return value


def _whole(value: Any, name: str, most: int) -> int | None:
    """A JSON integer in 0..most; `"NaN"`, 1.5, true or a string of digits are refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
        raise UnusableEvent(f"{name} is not a whole number in range")
    return value


def _sale_id(*candidates: Any) -> int | None:
    """metadata.sale_id, else client_reference_id: digits of a sale id the column can hold.
    Each one present is checked, so neither can carry a value the database would refuse."""
    found: list[int] = []
    for value in candidates:
        if value is None or value == "":
            continue
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not text.isascii() or not text.isdigit() \
                or len(text) > 10 or not 1 <= int(text) <= _MAX_SALE_ID:
            raise UnusableEvent("sale_id is not a sale id")
        found.append(int(text))
    return found[0] if found else None


def _read(d: Mapping[str, Any]) -> CheckoutSession:
    try:
        return session_from_dict(d)
    except UnusableEvent as e:
        raise GatewayError(f"Stripe's answer could not be read ({e}).") from None


def _stripe_expires_at(when: datetime) -> int:
    """Unix seconds, kept inside the window Stripe accepts. A naive datetime is UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    when = min(max(when, now + _MIN_EXPIRY), now + _MAX_EXPIRY)
    return int(when.timestamp())


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

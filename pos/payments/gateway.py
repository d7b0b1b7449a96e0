"""The payment gateway interface and its value types.

Pure Python: nothing here imports stripe. The app talks to a `PaymentGateway`
(`StripeGateway` in stripe_gateway.py, or a demo gateway when no Stripe key is set)
and only ever sees these frozen value types, never SDK objects.

Money is always integer cents; timestamps are timezone-aware UTC datetimes.
No personal data (client name, email, health information) is ever part of a request.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

# The Checkout Session events the app acts on; every other event type is ignored.
EVENT_CHECKOUT_COMPLETED = "checkout.session.completed"
EVENT_ASYNC_PAYMENT_SUCCEEDED = "checkout.session.async_payment_succeeded"
EVENT_CHECKOUT_EXPIRED = "checkout.session.expired"
EVENT_ASYNC_PAYMENT_FAILED = "checkout.session.async_payment_failed"
HANDLED_EVENT_TYPES: frozenset[str] = frozenset(
    {
        EVENT_CHECKOUT_COMPLETED,
        EVENT_ASYNC_PAYMENT_SUCCEEDED,
        EVENT_CHECKOUT_EXPIRED,
        EVENT_ASYNC_PAYMENT_FAILED,
    }
)


@dataclass(frozen=True)
class CheckoutLine:
    name: str
    unit_amount_cents: int
    quantity: int


@dataclass(frozen=True)
class CheckoutRequest:
    """What the app asks the gateway to collect for one sale.

    `lines` must add up to `amount_total_cents` exactly (fold discounts and tax into
    the lines: Stripe computes the total from them). `idempotency_key` is derived from
    the sale, so a retry by the app (double click, reload) never makes a second session.
    """

    sale_id: int
    currency: str
    lines: tuple[CheckoutLine, ...]
    amount_total_cents: int
    expires_at: datetime
    success_url: str
    cancel_url: str
    idempotency_key: str


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str  # "open" | "complete" | "expired"
    payment_status: str  # "paid" | "unpaid" | "no_payment_required"
    amount_total_cents: int | None
    currency: str | None
    sale_id: int | None  # from metadata.sale_id, else client_reference_id
    payment_intent_id: str | None
    card_last4: str | None
    expires_at: datetime | None
    card_brand: str | None = None  # "visa", "mastercard"... when the charge was expanded

    @property
    def is_paid(self) -> bool:
        return self.status == "complete" and self.payment_status == "paid"


@dataclass(frozen=True)
class PaymentEvent:
    id: str
    type: str
    session: CheckoutSession


class InvalidSignature(Exception):
    """A webhook whose signature is missing, wrong, or too old (or whose body is not JSON)."""


class UnusableEvent(Exception):
    """A correctly signed webhook whose fields cannot be used (a number that is not one, an
    id too long or out of range...): refused, and nothing changes."""


class GatewayError(Exception):
    """The payment provider could not be reached or refused the request.

    The caller shows `str(error)` (which never contains personal data) rather than a 500.
    `code` is the provider's error code when it gave one (e.g. "resource_missing"),
    `http_status` its HTTP status (None for network failures).
    """

    def __init__(
        self, message: str, *, code: str | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status

    @property
    def is_network_error(self) -> bool:
        return self.http_status is None


@runtime_checkable
class PaymentGateway(Protocol):
    name: str  # "stripe" or "demo"

    def create_checkout(self, req: CheckoutRequest) -> CheckoutSession: ...

    def retrieve_checkout(self, session_id: str) -> CheckoutSession: ...

    def expire_checkout(self, session_id: str) -> CheckoutSession:
        """End an open session early. A session that is already complete or expired is
        returned as it is (check `status`: the client may have paid just before)."""
        ...

    def refund(self, payment_intent_id: str, amount_cents: int, idempotency_key: str) -> str:
        """Refund part or all of a payment; returns the refund's id."""
        ...

    def parse_event(self, payload: bytes, signature_header: str | None) -> PaymentEvent | None:
        """Verify and decode a webhook. None for event types the app ignores;
        raises InvalidSignature for a bad, missing or stale signature."""
        ...


def validate_checkout_request(req: CheckoutRequest) -> None:
    """Raise ValueError for a request no gateway should send (a programming error)."""
    if not req.lines:
        raise ValueError("a checkout needs at least one line")
    for line in req.lines:
        if line.quantity < 1 or line.unit_amount_cents < 0 or not line.name:
            raise ValueError("checkout lines need a name, quantity >= 1 and amount >= 0")
    lines_total = sum(line.unit_amount_cents * line.quantity for line in req.lines)
    if lines_total != req.amount_total_cents:
        raise ValueError(
            f"checkout lines add up to {lines_total} cents, "
            f"not the sale total of {req.amount_total_cents}"
        )
    if not req.idempotency_key:
        raise ValueError("a checkout needs an idempotency key")

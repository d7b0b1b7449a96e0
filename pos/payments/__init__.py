"""Payments: the gateway interface, and the Stripe implementation behind it.

`StripeGateway` is imported lazily, so that importing this package (e.g. for the demo
gateway) does not import the stripe SDK.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pos.payments.gateway import (
    EVENT_ASYNC_PAYMENT_FAILED,
    EVENT_ASYNC_PAYMENT_SUCCEEDED,
    EVENT_CHECKOUT_COMPLETED,
    EVENT_CHECKOUT_EXPIRED,
    HANDLED_EVENT_TYPES,
    CheckoutLine,
    CheckoutRequest,
    CheckoutSession,
    GatewayError,
    InvalidSignature,
    PaymentEvent,
    PaymentGateway,
    UnusableEvent,
    validate_checkout_request,
)

if TYPE_CHECKING:
    from pos.payments.stripe_gateway import StripeGateway

__all__ = [
    "EVENT_ASYNC_PAYMENT_FAILED",
    "EVENT_ASYNC_PAYMENT_SUCCEEDED",
    "EVENT_CHECKOUT_COMPLETED",
    "EVENT_CHECKOUT_EXPIRED",
    "HANDLED_EVENT_TYPES",
    "CheckoutLine",
    "CheckoutRequest",
    "CheckoutSession",
    "GatewayError",
    "InvalidSignature",
    "PaymentEvent",
    "PaymentGateway",
    "StripeGateway",
    "UnusableEvent",
    "validate_checkout_request",
]


def __getattr__(name: str) -> Any:
    if name == "StripeGateway":
        from pos.payments.stripe_gateway import StripeGateway

        return StripeGateway
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

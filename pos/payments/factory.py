"""Which payment gateway the app uses: Stripe when a key is configured, else the demo."""
from __future__ import annotations

from flask import current_app

from pos.payments.demo import DemoGateway
from pos.payments.gateway import PaymentGateway

_CACHE_KEY = "pos_payment_gateways"


def current_gateway() -> PaymentGateway:
    """StripeGateway(STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE) when the key
    is set, else DemoGateway (no money moves). One instance per app and configuration."""
    config = current_app.config
    key = config.get("STRIPE_SECRET_KEY")
    if not key:
        return DemoGateway()
    cache = current_app.extensions.setdefault(_CACHE_KEY, {})
    cache_key = (key, config.get("STRIPE_WEBHOOK_SECRET"), config.get("STRIPE_API_BASE"))
    gateway = cache.get(cache_key)
    if gateway is None:
        from pos.payments.stripe_gateway import StripeGateway

        gateway = StripeGateway(key, config.get("STRIPE_WEBHOOK_SECRET") or "",
                                config.get("STRIPE_API_BASE"))
        cache[cache_key] = gateway
    return gateway


def gateway_named(name: str | None) -> PaymentGateway:
    """The gateway a sale was made with: a demo sale stays with the demo gateway even after
    Stripe keys were configured; anything else goes to the current gateway."""
    if name == DemoGateway.name:
        return DemoGateway()
    return current_gateway()

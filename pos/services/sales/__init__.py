"""Selling at the front desk, and settling card payments, by use case:

- `cart`: the cart looked up and priced (`CartLine`, `quote_cart`);
- `selling`: cash and card sales, voiding an unpaid one (`sell`, `void_sale`);
- `settlement`: the gateway's events, late payments, automatic refunds (`fulfil_checkout`,
  `handle_payment_event`, `expire_checkout_sale`...);
- `sweep`: expired checkouts and reconciliation, one loop (`sweep_checkouts`, `reconcile`);
- `records`: the sale row's shared steps (lock, pay and number, close unpaid).

Callers keep `from pos.services import sales; sales.sell(...)`: the public names are here.
"""
from __future__ import annotations

from pos.services.sales.cart import (
    MAX_LINES,
    CartLine,
    CartProduct,
    ManualDiscount,
    Quote,
    QuoteLine,
    quote_cart,
)
from pos.services.sales.errors import (
    CashTenderedTooLow,
    ClientRequired,
    PaymentGatewayUnavailable,
    SaleNotVoidable,
    UnknownClient,
)
from pos.services.sales.records import get_sale, receipt_text
from pos.services.sales.selling import PAYMENT_METHODS, PaymentMethod, sell, void_sale
from pos.services.sales.settlement import (
    expire_checkout_sale,
    fail_checkout_sale,
    fulfil_checkout,
    handle_payment_event,
    retry_pending_auto_refunds,
)
from pos.services.sales.sweep import SWEEP_GRACE, reconcile, sweep_checkouts, sweep_expired

__all__ = [
    "MAX_LINES", "PAYMENT_METHODS", "SWEEP_GRACE", "CartLine", "CartProduct",
    "CashTenderedTooLow", "ClientRequired", "ManualDiscount", "PaymentGatewayUnavailable",
    "PaymentMethod",
    "Quote", "QuoteLine", "SaleNotVoidable", "UnknownClient", "expire_checkout_sale",
    "fail_checkout_sale", "fulfil_checkout", "get_sale", "handle_payment_event", "quote_cart",
    "receipt_text", "reconcile", "retry_pending_auto_refunds", "sell", "sweep_checkouts",
    "sweep_expired", "void_sale",
]

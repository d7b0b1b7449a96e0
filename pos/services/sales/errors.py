"""The sale path's named errors (each one code and one status at the edge)."""
from __future__ import annotations

from pos.domain.errors import PosError

# -- errors ------------------------------------------------------------------------------

class UnknownClient(PosError):
    code = "unknown_client"
    status = 422


class ClientRequired(PosError):
    """A package is sold to someone: its sessions belong to a client."""

    code = "client_required"
    status = 422


class CashTenderedTooLow(PosError):
    code = "cash_tendered_too_low"
    status = 422


class PaymentGatewayUnavailable(PosError):
    code = "payment_gateway_unavailable"
    status = 503


class SaleNotVoidable(PosError):
    code = "sale_not_voidable"
    status = 409


class PaymentsDoNotCoverTotal(PosError):
    """A sale's tenders must add up to its total, to the cent."""

    code = "payments_do_not_cover_total"
    status = 422


class PaymentExceedsBalance(PosError):
    code = "payment_exceeds_balance"
    status = 422


class CardPaymentPending(PosError):
    """One card payment at a time: it succeeds, fails or expires (or the sale is cancelled)
    before another tender is added."""

    code = "card_payment_pending"
    status = 409


class SaleNotAwaitingPayment(PosError):
    code = "sale_not_awaiting_payment"
    status = 409

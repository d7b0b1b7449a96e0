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

"""Named business errors. Each carries the API error code and HTTP status it maps to at the edge."""
from __future__ import annotations

from typing import Any


class PosError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationFailed(PosError):
    """Input that is not what the endpoint accepts (type, range, length)."""

    code = "validation_error"
    status = 422


class NotFound(PosError):
    code = "not_found"
    status = 404


class UnknownItem(PosError):
    code = "unknown_item"
    status = 422


class NotForSale(PosError):
    """A line whose price is 0: given away only by a rule (the first-visit bundle at a
    client's first treatment), never sold."""

    code = "not_for_sale"
    status = 422


class InsufficientStock(PosError):
    code = "insufficient_stock"
    status = 409


class LotExpired(PosError):
    code = "lot_expired"
    status = 422


class Conflict(PosError):
    """The thing already exists (a duplicate sku, an email already registered...)."""

    code = "conflict"
    status = 409


class Forbidden(PosError):
    """Signed in, but this is not yours to do (another user's token, say)."""

    code = "forbidden"
    status = 403

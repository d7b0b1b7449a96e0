"""Purchasing rules as functions of figures: order statuses, what a receipt may take,
when a supply needs its lot, when a count needs a note."""
from __future__ import annotations

from enum import StrEnum

from pos.domain.errors import PosError


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


# What is still coming: a draft counts (the reorder list must not suggest it twice).
ON_ORDER_STATUSES = (PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.SENT,
                     PurchaseOrderStatus.PARTIALLY_RECEIVED)
RECEIVABLE_STATUSES = ON_ORDER_STATUSES
CANCELLABLE_STATUSES = ON_ORDER_STATUSES

# A count line off by more than this many units AND this share of what was on hand needs a note.
COUNT_NOTE_UNITS = 5
COUNT_NOTE_PERCENT = 20


class ReceiptExceedsOrder(PosError):
    code = "receipt_exceeds_order"
    status = 422


class LotRequired(PosError):
    code = "lot_required"
    status = 422


class NoteRequired(PosError):
    code = "note_required"
    status = 422


class PurchaseOrderClosed(PosError):
    """The order is not in a state that allows this (sent twice, received when cancelled...)."""

    code = "purchase_order_closed"
    status = 409


class AlreadySent(PosError):
    code = "already_sent"
    status = 409


def status_after_receipt(lines: list[tuple[int, int]]) -> PurchaseOrderStatus:
    """[(quantity, received)] of every line -> the order's status."""
    if all(received >= quantity for quantity, received in lines):
        return PurchaseOrderStatus.RECEIVED
    if any(received > 0 for _, received in lines):
        return PurchaseOrderStatus.PARTIALLY_RECEIVED
    return PurchaseOrderStatus.SENT


def still_due(quantity: int, received: int) -> int:
    return max(quantity - received, 0)


def needs_lot(kind: str, lot_code: str | None, expires_on: object) -> bool:
    """A clinical supply is traced by lot and expiry; retail and bundles may go without."""
    return kind == "supply" and (not lot_code or expires_on is None)


def count_needs_note(on_hand: int, counted: int) -> bool:
    """Off by more than 5 units and by more than 20 % of what was on hand."""
    off = abs(counted - on_hand)
    return off > COUNT_NOTE_UNITS and off * 100 > COUNT_NOTE_PERCENT * max(on_hand, 0)


def order_after_on_order(suggested: int, on_order: int) -> int:
    """What is left to order once what is already on order is counted."""
    return max(suggested - max(on_order, 0), 0)

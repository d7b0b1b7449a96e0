"""The words of stock alerts and digests: subject, email body and one-line webhook text.

Only the item's own figures go in: no client, sale or treatment detail ever does.
"""
from __future__ import annotations

from datetime import date

from pos.models import Item, Lot

KIND_LABELS = {"low_stock": "Low stock", "out_of_stock": "Out of stock",
               "expiring_lot": "Expiring lot"}


def cover_text(days: int | None) -> str:
    return "no use in the last 30 days" if days is None else f"{days} days"


def on_order_text(on_order: int, unit: str) -> str:
    return f"{on_order} {unit} on open purchase orders" if on_order else "nothing"


def stock_alert_text(kind: str, item: Item, on_hand: int, available: int,
                     suggested: int, cover_days: int | None,
                     on_order: int = 0, location: str | None = None) -> tuple[str, str, str]:
    """(subject, email body, one-line webhook text) of a low or out of stock alert.

    Only the item's own figures: no client, sale or treatment detail ever goes in.
    `location`: the location's name when the clinic has several (its stock is checked
    per location); None keeps the one-location texts as they were.
    """
    label = KIND_LABELS[kind]
    at = f" at {location}" if location else ""
    subject = (f"{label}{at}: {item.name} ({item.sku}) - {available} available, "
               f"reorder point {item.reorder_point}")
    body = "\n".join([
        f"{item.name} (SKU {item.sku}) is {'out of stock' if kind == 'out_of_stock' else 'low'}"
        f"{at}.",
        "",
        f"On hand: {on_hand} {item.unit}",
        f"Available (on hand minus held for unpaid sales): {available}",
        f"Reorder point: {item.reorder_point}",
        f"Already on order: {on_order_text(on_order, item.unit)}",
        f"Suggested order quantity: {suggested}",
        f"Days of cover: {cover_text(cover_days)}",
        "",
        "This alert is sent once per fall below the reorder point.",
    ])
    text = (f"{label}{at}: {item.name} ({item.sku}) - on hand {on_hand}, available {available}, "
            f"reorder point {item.reorder_point}, on order {on_order}, "
            f"suggested order {suggested}, "
            f"days of cover {cover_text(cover_days)}")
    return subject, body, text


def expiring_lot_text(item: Item, lot: Lot, lot_on_hand: int, today: date) -> tuple[str, str, str]:
    assert lot.expires_on is not None
    days = (lot.expires_on - today).days
    if days < 0:
        when = f"expired on {lot.expires_on.isoformat()} ({-days} days ago)"
        label = "Expired lot still on hand"
    else:
        when = f"expires on {lot.expires_on.isoformat()} (in {days} days)"
        label = "Expiring lot"
    subject = f"{label}: {item.name} ({item.sku}) lot {lot.code} - {lot_on_hand} on hand"
    body = "\n".join([
        f"Lot {lot.code} of {item.name} (SKU {item.sku}) {when}.",
        "",
        f"On hand in this lot: {lot_on_hand} {item.unit}",
        f"Reorder point of the item: {item.reorder_point}",
        "",
        "Expired lots are never used for treatments or sales; write them off with an "
        "adjustment (reason: expired).",
    ])
    text = f"{label}: {item.name} ({item.sku}) lot {lot.code} {when}, {lot_on_hand} on hand"
    return subject, body, text

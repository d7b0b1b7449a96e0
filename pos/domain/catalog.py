"""Rules of the catalog a manager edits: barcodes, package spacing, bills of materials."""
from __future__ import annotations

from collections.abc import Sequence

from pos.domain.errors import Conflict, ValidationFailed


class BarcodeTaken(Conflict):
    """Another item already answers to that barcode (as its barcode or as its sku)."""

    code = "barcode_taken"


def check_spacing(sessions: int, min_days_between: int, max_days_between: int | None) -> None:
    """A package's spacing: a series' upper bound, when set, is not below its lower one."""
    if max_days_between is not None and max_days_between < min_days_between:
        raise ValidationFailed(
            "The longest gap between sessions cannot be shorter than the shortest.",
            {"fields": {"max_days_between": "is less than min_days_between"}})
    if sessions < 1:
        raise ValidationFailed("A package has at least one session.",
                               {"fields": {"sessions": "must be at least 1"}})


def check_lines(lines: Sequence[tuple[str, int]], field: str) -> None:
    """A bill of materials: each sku once, each quantity at least 1."""
    skus = [sku for sku, _quantity in lines]
    repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
    if repeated:
        raise ValidationFailed(f"List each item once: {', '.join(repeated)}.",
                               {"fields": {field: f"repeats {', '.join(repeated)}"}})
    if any(quantity < 1 for _sku, quantity in lines):
        raise ValidationFailed("Quantities must be at least 1.",
                               {"fields": {field: "a quantity is below 1"}})

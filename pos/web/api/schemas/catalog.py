"""Items and stock: creating an item, receiving and adjusting stock."""
from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Interval
from pydantic import field_validator

from pos.domain.limits import MAX_QUANTITY
from pos.domain.stock import ADJUSTMENT_REASONS
from pos.models.catalog import ITEM_KINDS
from pos.web.api.schemas.types import Cents, Day, Quantity, SafeText, StrictModel

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# A sku names an item that exists; its own pattern is enforced only when one is created.
SkuRef = Annotated[str, SafeText(40)]
LotCode = Annotated[str, SafeText(60, optional=True)]
Count = Annotated[int, Interval(ge=0, le=MAX_QUANTITY)]


class NewItemIn(StrictModel):
    sku: Annotated[str, SafeText(40, pattern=SKU_PATTERN)]
    name: Annotated[str, SafeText(120)]
    kind: Literal[ITEM_KINDS]  # type: ignore[valid-type]
    unit: Annotated[str, SafeText(20)]
    price_cents: Cents
    cost_cents: Cents | None = None
    reorder_point: Count
    reorder_quantity: Count
    taxable: bool | None = None
    barcode: Annotated[str, SafeText(64, optional=True, pattern=SKU_PATTERN)] | None = None


class ReceiptIn(StrictModel):
    sku: SkuRef
    quantity: Quantity
    lot: LotCode | None = None
    expires_on: Day | None = None
    unit_cost_cents: Cents | None = None


class AdjustmentIn(StrictModel):
    sku: SkuRef
    lot: LotCode | None = None
    qty_delta: Annotated[int, Interval(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
    reason: Literal[ADJUSTMENT_REASONS]  # type: ignore[valid-type]
    note: Annotated[str, SafeText(500, optional=True)] | None = None

    @field_validator("qty_delta")
    @classmethod
    def _changes_something(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be 0: an adjustment changes the quantity")
        return value

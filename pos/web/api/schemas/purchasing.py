"""Suppliers, purchase orders, counts and lot corrections (API.md "Purchasing, counts,
locations")."""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from annotated_types import Interval, Len

from pos.domain.limits import MAX_QUANTITY
from pos.web.api.schemas.catalog import LotCode, SkuRef, _Patch
from pos.web.api.schemas.queries import PageQuery
from pos.web.api.schemas.types import Cents, Day, Id, Quantity, SafeText, StrictModel
from pos.web.api.schemas.users import EMAIL_PATTERN

Lot = Annotated[str, SafeText(60)]


class NewSupplierIn(StrictModel):
    name: Annotated[str, SafeText(120)]
    email: Annotated[str, SafeText(254, pattern=EMAIL_PATTERN,
                                   pattern_problem="is not an email address")]
    lead_time_days: Annotated[int, Interval(ge=0, le=365)]
    minimum_order_cents: Cents | None = None


class SupplierChangesIn(_Patch):
    """A supplier corrected: an absent field is kept; minimum_order_cents null is none."""

    NULLABLE: ClassVar[tuple[str, ...]] = ("minimum_order_cents",)

    name: Annotated[str, SafeText(120)] | None = None
    email: Annotated[str, SafeText(254, pattern=EMAIL_PATTERN,
                                   pattern_problem="is not an email address")] | None = None
    lead_time_days: Annotated[int, Interval(ge=0, le=365)] | None = None
    minimum_order_cents: Cents | None = None


class OrderLineIn(StrictModel):
    sku: SkuRef
    quantity: Quantity
    unit_cost_cents: Cents


class NewPurchaseOrderIn(StrictModel):
    supplier_id: Id
    lines: Annotated[list[OrderLineIn], Len(min_length=1, max_length=100)]


class PurchaseOrderLinesIn(StrictModel):
    """A draft's lines, replaced (the edit page's twin)."""

    lines: Annotated[list[OrderLineIn], Len(min_length=1, max_length=100)]


class ReceiptLineIn(StrictModel):
    sku: SkuRef
    quantity: Quantity
    lot: LotCode | None = None
    expires_on: Day | None = None


class PurchaseOrderReceiptIn(StrictModel):
    lines: Annotated[list[ReceiptLineIn], Len(min_length=1, max_length=100)]


class CountLineIn(StrictModel):
    sku: SkuRef
    lot: Lot
    counted: Annotated[int, Interval(ge=0, le=MAX_QUANTITY)]


class CountIn(StrictModel):
    lines: Annotated[list[CountLineIn], Len(min_length=1, max_length=500)]
    note: Annotated[str, SafeText(500, optional=True)] | None = None


class LotCorrectionIn(StrictModel):
    sku: SkuRef
    expires_on: Day
    reason: Annotated[str, SafeText(500)]


PO_STATUSES = ("draft", "sent", "partially_received", "received", "cancelled")


class PurchaseOrdersQuery(PageQuery):
    status: Literal[PO_STATUSES] | None = None  # type: ignore[valid-type]

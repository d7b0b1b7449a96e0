"""Items and stock: creating and changing items and packages, receiving and adjusting stock."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from annotated_types import Interval, Len
from pydantic import ConfigDict, ValidationInfo, field_validator

from pos.domain.limits import MAX_QUANTITY
from pos.domain.reorder import MAX_EXPECTED_TREATMENTS
from pos.domain.stock import ADJUSTMENT_REASONS
from pos.models.catalog import AREAS, ITEM_KINDS
from pos.web.api.schemas.types import Cents, Day, Id, Quantity, SafeText, StrictModel

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# A sku names an item that exists; its own pattern is enforced only when one is created.
SkuRef = Annotated[str, SafeText(40)]
LotCode = Annotated[str, SafeText(60, optional=True)]
Count = Annotated[int, Interval(ge=0, le=MAX_QUANTITY)]
# Free text, what a scanner types; empty is no barcode.
Barcode = Annotated[str, SafeText(64, optional=True)]
Days = Annotated[int, Interval(ge=0, le=3650)]
Sessions = Annotated[int, Interval(ge=1, le=100)]


def _null_only_where_nullable(schema: dict[str, Any], model: type[Any]) -> None:
    """The document says what the server does: null is refused but where a field may be
    null (and "absent" is how a PATCH keeps a value, so no default is shown)."""
    for name, prop in schema.get("properties", {}).items():
        prop.pop("default", None)
        branches = prop.get("anyOf")
        if branches and name not in model.NULLABLE:
            kept = [b for b in branches if b.get("type") != "null"]
            prop.pop("anyOf")
            if len(kept) == 1:
                prop.update(kept[0])
            else:
                prop["anyOf"] = kept


class _Patch(StrictModel):
    """A PATCH body: an absent field is left as it is; null only where a field may be null."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True,
                              json_schema_extra=_null_only_where_nullable)
    NULLABLE: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _no_null_where_none_is_kept(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("cannot be null: leave it out to keep it as it is")
        return value

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ItemChangesIn(_Patch):
    NULLABLE: ClassVar[tuple[str, ...]] = ("barcode", "supplier_id")

    name: Annotated[str, SafeText(120)] | None = None
    price_cents: Cents | None = None
    cost_cents: Cents | None = None
    reorder_point: Count | None = None
    reorder_quantity: Count | None = None
    taxable: bool | None = None
    barcode: Barcode | None = None
    active: bool | None = None
    # Who the item is ordered from; null: nobody (left off the drafts from the reorder list).
    supplier_id: Id | None = None


class LineIn(StrictModel):
    sku: SkuRef
    quantity: Quantity


Lines = Annotated[list[LineIn], Len(max_length=50)]


class BundleContentsIn(StrictModel):
    contents: Lines


class NewPackageIn(StrictModel):
    code: Annotated[str, SafeText(40, pattern=SKU_PATTERN)]
    name: Annotated[str, SafeText(120)]
    area: Literal[AREAS]  # type: ignore[valid-type]
    sessions: Sessions
    price_cents: Cents
    min_days_between: Days
    max_days_between: Days | None = None
    supplies_per_session: Lines
    active: bool | None = None


class PackageChangesIn(_Patch):
    NULLABLE: ClassVar[tuple[str, ...]] = ("max_days_between",)

    # The code names the package (sales and reports show it): it may be repeated, not changed.
    code: Annotated[str, SafeText(40)] | None = None
    name: Annotated[str, SafeText(120)] | None = None
    area: Literal[AREAS] | None = None  # type: ignore[valid-type]
    sessions: Sessions | None = None
    price_cents: Cents | None = None
    min_days_between: Days | None = None
    max_days_between: Days | None = None
    supplies_per_session: Lines | None = None
    active: bool | None = None


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
    barcode: Barcode | None = None


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


class ExpectedTreatmentsIn(StrictModel):
    """A package's treatments expected in the next 14 days."""

    count: Annotated[int, Interval(ge=0, le=MAX_EXPECTED_TREATMENTS)]

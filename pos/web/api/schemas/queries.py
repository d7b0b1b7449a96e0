"""Query strings: text, so numbers are read from text here (never strict), unknown
parameters are ignored (a cache-buster is no error), and an empty value is no value."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Interval
from pydantic import BaseModel, ConfigDict, WithJsonSchema, model_validator

from pos.models.catalog import ITEM_KINDS
from pos.web.api.schemas.types import Id, SafeText

# A search is not stored, so "<b" may be searched for; control characters (NUL) may not.
SearchText = Annotated[str, SafeText(200, markup=True, optional=True)]


class QueryModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value != ""}
        return data


class ItemsQuery(QueryModel):
    q: SearchText | None = None
    kind: Literal[ITEM_KINDS] | None = None  # type: ignore[valid-type]
    # An exact barcode: the list of the (at most one) item that carries it.
    barcode: Annotated[str, SafeText(64, markup=True, optional=True)] | None = None
    # `true` (the default: what is for sale), `false` (deactivated ones) or `any`.
    active: Literal["true", "false", "any"] = "true"


class PackagesQuery(QueryModel):
    # `true` (the default: what is for sale), `false` (deactivated ones) or `any`.
    active: Literal["true", "false", "any"] = "true"


class ClientsQuery(QueryModel):
    q: SearchText | None = None
    limit: Annotated[int, Interval(ge=1, le=100)] = 20


class MonthlyReportQuery(QueryModel):
    """`month` is checked by pos.domain.reporting.parse_month, exactly (no stripping: a
    month is a format, not text); absent, it is refused there as not YYYY-MM."""

    model_config = ConfigDict(extra="ignore", frozen=True,
                              json_schema_extra={"required": ["month"]})

    month: Annotated[str | None, WithJsonSchema(
        {"type": "string", "pattern": r"^2[01][0-9]{2}-(0[1-9]|1[0-2])$"})] = None


MAX_PER_PAGE = 200


class PageQuery(QueryModel):
    """`?page=` (from 1) and `?per_page=` (default 50, at most 200) of a list that grows."""

    page: Annotated[int, Interval(ge=1, le=1_000_000)] = 1
    per_page: Annotated[int, Interval(ge=1, le=MAX_PER_PAGE)] = 50


class AlertsPageQuery(PageQuery):
    open: Literal["0", "1", "true", "false"] | None = None


class ReorderQuery(QueryModel):
    # One location's shelf; absent: every location summed.
    location: Id | None = None

"""Locations and transfers (API.md "Purchasing, counts, locations")."""
from __future__ import annotations

from typing import Annotated

from pos.web.api.schemas.catalog import SkuRef
from pos.web.api.schemas.purchasing import Lot
from pos.web.api.schemas.queries import QueryModel
from pos.web.api.schemas.types import Id, Quantity, SafeText, StrictModel


class NewLocationIn(StrictModel):
    name: Annotated[str, SafeText(120)]


class TransferIn(StrictModel):
    sku: SkuRef
    lot: Lot
    quantity: Quantity
    from_location: Id
    to_location: Id
    note: Annotated[str, SafeText(500, optional=True)] | None = None


class LocationQuery(QueryModel):
    """`?location=ID`: the location a stock endpoint or report reads or writes; absent,
    the user's own (their home location, at first the clinic's one location). An id
    that names no location is 404 `not_found`."""

    location: Id | None = None

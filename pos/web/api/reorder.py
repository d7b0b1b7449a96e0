"""The reorder list (the reorder page's twin): what to order, how much, and why."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.extensions import db
from pos.services import reorder
from pos.services.reorder import ReorderRow
from pos.web import current_settings
from pos.web.api import api_bp, requires
from pos.web.api.openapi import (
    BOOL,
    INT,
    PATH_GROUPS,
    STR,
    array,
    errors,
    obj,
    ok,
    op,
    query_params,
)
from pos.web.api.schemas import validate_query
from pos.web.api.schemas.queries import ReorderQuery


def reorder_row_json(row: ReorderRow) -> dict[str, Any]:
    return {
        "sku": row.sku, "name": row.name, "unit": row.unit, "on_hand": row.on_hand,
        "available": row.available, "reorder_point": row.reorder_point,
        "reorder_quantity": row.reorder_quantity, "status": row.status,
        "suggested_quantity": row.suggested_quantity, "days_of_cover": row.days_of_cover,
        "used_last_30_days": row.used_last_30_days, "on_order": row.on_order,
        "supplier_id": row.supplier_id, "booked_next_14_days": row.booked_next_14_days,
        "expected_use": row.expected_use, "basis": row.basis,
        "ahead_of_bookings": row.ahead_of_bookings,
    }


@api_bp.get("/v1/reorder")
@requires("manager")
@validate_query(ReorderQuery)
def reorder_list(query: ReorderQuery):  # type: ignore[no-untyped-def]
    cover_days = current_settings().reorder_cover_days
    rows = reorder.reorder_list(db.session, cover_days, location_id=query.location)
    return jsonify({"location_id": query.location, "cover_days": cover_days,
                    "items": [reorder_row_json(r) for r in rows]})


_NULL_INT = {"type": ["integer", "null"]}
REORDER_ROW = obj(
    ["sku", "name", "unit", "on_hand", "available", "reorder_point", "reorder_quantity",
     "status", "suggested_quantity", "days_of_cover", "used_last_30_days", "on_order",
     "supplier_id", "booked_next_14_days", "expected_use", "basis", "ahead_of_bookings"],
    sku=STR, name=STR, unit=STR, on_hand=INT, available=INT, reorder_point=INT,
    reorder_quantity=INT, status={"enum": ["ok", "low", "out"]}, suggested_quantity=INT,
    days_of_cover=_NULL_INT, used_last_30_days=INT, on_order=INT, supplier_id=_NULL_INT,
    booked_next_14_days=INT, expected_use=INT, basis={"enum": ["usage", "bookings"]},
    ahead_of_bookings=BOOL)

REORDER_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/reorder": {
        "get": op("The reorder list: items at or below their reorder point, and those the "
                  "expected treatments take there within the supplier's lead time; "
                  "?location=ID: that location's shelf (unknown: 404)", "manager",
                  {**ok(obj(["location_id", "cover_days", "items"], location_id=_NULL_INT,
                            cover_days=INT, items=array(REORDER_ROW))), **errors(404, 422)},
                  params=query_params(ReorderQuery)),
    },
}
PATH_GROUPS.append(REORDER_PATHS)

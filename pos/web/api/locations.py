"""Locations (admin) and transfers between them (manager); `?location=` for the others."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request

from pos.extensions import db
from pos.models import Location
from pos.services import locations, transfers
from pos.web.api import api_bp, api_user, idempotent, requires
from pos.web.api.openapi import INT, PATH_GROUPS, STR, array, errors, obj, ok, op, query_params
from pos.web.api.schemas import parse_query, validate_body
from pos.web.api.schemas.locations import LocationQuery, NewLocationIn, TransferIn

# `?location=ID` in the OpenAPI document of every endpoint that takes it.
LOCATION_PARAMS = query_params(LocationQuery)


def api_location() -> Location:
    """The location this API request works at: `?location=ID` (404 if unknown), else the
    token's user's home location, else the clinic's first one."""
    asked = parse_query(LocationQuery).location
    return locations.working_location(db.session, asked=asked, user=api_user())


def api_location_id() -> int | None:
    """`?location=ID`, else the token's user's home location, without a query (None: the
    clinic's first location); the service resolves it (an unknown id: 404)."""
    return parse_query(LocationQuery).location or api_user().home_location_id


def location_json(location: Location) -> dict[str, Any]:
    return {"id": location.id, "name": location.name}


@api_bp.route("/v1/locations", methods=["GET", "POST"])
@requires("admin")
def locations_collection():  # type: ignore[no-untyped-def]
    if request.method == "POST":
        return _create_location()
    return jsonify([location_json(loc) for loc in locations.list_locations(db.session)])


@idempotent
@validate_body(NewLocationIn)
def _create_location(body: NewLocationIn):  # type: ignore[no-untyped-def]
    location = locations.create_location(body.name, api_user().id)
    return jsonify(location_json(location)), 201


@api_bp.post("/v1/stock/transfers")
@requires("manager")
@idempotent
@validate_body(TransferIn)
def transfer(body: TransferIn):  # type: ignore[no-untyped-def]
    result = transfers.transfer_stock(
        sku=body.sku, lot_code=body.lot, quantity=body.quantity,
        from_location_id=body.from_location, to_location_id=body.to_location,
        user_id=api_user().id, note=body.note)
    return jsonify({"out_movement_id": result.out_movement_id,
                    "in_movement_id": result.in_movement_id,
                    "from_on_hand": result.from_on_hand, "to_on_hand": result.to_on_hand}), 201


LOCATION = obj(["id", "name"], id=INT, name=STR)
PATH_GROUPS.append({
    "/api/v1/locations": {
        "get": op("The clinic's locations, its first one first", "admin",
                  {**ok(array(LOCATION))}),
        "post": op("Add a location; a name already used is 409 location_exists", "admin",
                   {**ok(LOCATION, "201", "Created"), **errors(409, 422)},
                   body=NewLocationIn, idempotent=True),
    },
    "/api/v1/stock/transfers": {
        "post": op("Move a lot's stock from one location to another: a transfer_out and a "
                   "transfer_in movement in one transaction; more than the lot holds where "
                   "it leaves is 409 insufficient_stock, the same location twice 422, an "
                   "unknown location 404", "manager",
                   {**ok(obj(["out_movement_id", "in_movement_id", "from_on_hand",
                              "to_on_hand"], out_movement_id=INT, in_movement_id=INT,
                             from_on_hand=INT, to_on_hand=INT), "201", "Created"),
                    **errors(404, 409, 422)},
                   body=TransferIn, idempotent=True),
    },
})

"""Cash drawers (API.md "The front desk's day"): open, current, close, reopen, paid in/out."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.domain.errors import NotFound
from pos.domain.limits import MAX_ID
from pos.extensions import db
from pos.models import Drawer
from pos.services import drawers
from pos.services.drawers import DrawerView
from pos.web import current_settings
from pos.web.api import api_bp, api_user, idempotent, page_json, requires
from pos.web.api.locations import LOCATION_PARAMS, api_location_id
from pos.web.api.openapi import (
    ID,
    INT,
    PATH_GROUPS,
    array,
    errors,
    obj,
    ok,
    op,
    path_param,
    query_params,
)
from pos.web.api.schemas import validate_body, validate_query
from pos.web.api.schemas.drawers import CloseDrawerIn, DrawerMovementIn, OpenDrawerIn
from pos.web.api.schemas.queries import PageQuery


def _known_id(drawer_id: int) -> int:
    if drawer_id > MAX_ID:
        raise NotFound(f"There is no drawer {drawer_id}.", {"drawer_id": drawer_id})
    return drawer_id


def _at(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _name(user: Any) -> str | None:
    return user.name if user is not None else None


def drawer_json(drawer: Drawer, view: DrawerView | None = None) -> dict[str, Any]:
    figures = view.figures if view is not None else drawers.figures(db.session, drawer)
    return {
        "id": drawer.id, "status": drawer.status, "opened_at": _at(drawer.opened_at),
        "opened_by": _name(drawer.opened_by), "opening_float_cents": drawer.opening_float_cents,
        "cash_sales_cents": figures.cash_sales_cents,
        "cash_refunds_cents": figures.cash_refunds_cents,
        "paid_in_cents": figures.paid_in_cents, "paid_out_cents": figures.paid_out_cents,
        "expected_cents": figures.expected_cents, "counted_cents": drawer.counted_cents,
        "over_short_cents": drawer.over_short_cents, "note": drawer.note,
        "closed_at": _at(drawer.closed_at), "closed_by": _name(drawer.closed_by),
    }


def _view_json(view: DrawerView) -> dict[str, Any]:
    return drawer_json(view.drawer, view)


@api_bp.post("/v1/drawers")
@requires("front_desk")
@idempotent
@validate_body(OpenDrawerIn)
def open_drawer(body: OpenDrawerIn):  # type: ignore[no-untyped-def]
    drawer = drawers.open_drawer(opening_float_cents=body.opening_float_cents,
                                 user_id=api_user().id, location_id=api_location_id())
    return jsonify(_view_json(drawers.get_drawer(db.session, drawer.id))), 201


@api_bp.get("/v1/drawers")
@requires("front_desk")
@validate_query(PageQuery)
def list_drawers(query: PageQuery):  # type: ignore[no-untyped-def]
    rows, total = drawers.list_drawers(db.session, page=query.page, per_page=query.per_page)
    return page_json([drawer_json(d) for d in rows], query.page, query.per_page, total)


@api_bp.get("/v1/drawers/current")
@requires("front_desk")
def current_drawer():  # type: ignore[no-untyped-def]
    return jsonify(_view_json(drawers.current_drawer(db.session, api_location_id())))


@api_bp.get("/v1/drawers/<int:drawer_id>")
@requires("front_desk")
def get_drawer(drawer_id: int):  # type: ignore[no-untyped-def]
    return jsonify(_view_json(drawers.get_drawer(db.session, _known_id(drawer_id))))


@api_bp.post("/v1/drawers/<int:drawer_id>/close")
@requires("front_desk")
@validate_body(CloseDrawerIn)
def close_drawer(drawer_id: int, body: CloseDrawerIn):  # type: ignore[no-untyped-def]
    view = drawers.close_drawer(_known_id(drawer_id), counted_cents=body.counted_cents,
                                note=body.note, user_id=api_user().id,
                                tolerance_cents=current_settings().drawer_tolerance_cents)
    return jsonify(_view_json(view))


@api_bp.post("/v1/drawers/<int:drawer_id>/reopen")
@requires("manager")
def reopen_drawer(drawer_id: int):  # type: ignore[no-untyped-def]
    return jsonify(_view_json(drawers.reopen_drawer(_known_id(drawer_id),
                                                    user_id=api_user().id)))


@api_bp.post("/v1/drawers/<int:drawer_id>/movements")
@requires("front_desk")
@idempotent
@validate_body(DrawerMovementIn)
def drawer_movement(drawer_id: int, body: DrawerMovementIn):  # type: ignore[no-untyped-def]
    view = drawers.record_movement(_known_id(drawer_id), kind=body.kind,
                                   amount_cents=body.amount_cents, note=body.note,
                                   user_id=api_user().id)
    return jsonify(_view_json(view)), 201


_NULL_INT = {"type": ["integer", "null"]}
_NULL_STR = {"type": ["string", "null"]}
_NULL_AT = {"type": ["string", "null"], "format": "date-time"}
DRAWER = obj(["id", "status", "opened_at", "opening_float_cents", "cash_sales_cents",
              "cash_refunds_cents", "paid_in_cents", "paid_out_cents", "expected_cents",
              "counted_cents", "over_short_cents"],
             id=INT, status={"enum": ["open", "closed"]},
             opened_at={"type": "string", "format": "date-time"}, opened_by=_NULL_STR,
             opening_float_cents=INT, cash_sales_cents=INT, cash_refunds_cents=INT,
             paid_in_cents=INT, paid_out_cents=INT, expected_cents=INT,
             counted_cents=_NULL_INT, over_short_cents=_NULL_INT, note=_NULL_STR,
             closed_at=_NULL_AT, closed_by=_NULL_STR)
_DRAWER_ID = path_param("drawer_id", ID)

DRAWER_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/drawers": {
        "post": op("Open the location's drawer with its float", "front_desk",
                   {**ok(DRAWER, "201", "Created"), **errors(404, 409, 422)},
                   body=OpenDrawerIn, idempotent=True, params=LOCATION_PARAMS),
        "get": op("Drawers, newest first (the Z reports of closed ones)", "front_desk",
                  {**ok(obj(["items", "page", "per_page", "total"], items=array(DRAWER),
                            page=INT, per_page=INT, total=INT)), **errors(422)},
                  params=query_params(PageQuery)),
    },
    "/api/v1/drawers/current": {
        "get": op("The open drawer with its live figures", "front_desk",
                  {**ok(DRAWER), **errors(404, 422)}, params=LOCATION_PARAMS),
    },
    "/api/v1/drawers/{drawer_id}": {
        "get": op("A drawer (its Z report once closed)", "front_desk",
                  {**ok(DRAWER), **errors(404)}, params=[_DRAWER_ID]),
    },
    "/api/v1/drawers/{drawer_id}/close": {
        "post": op("Count and close: over_short_cents = counted - expected; past "
                   "DRAWER_TOLERANCE_CENTS a note is required", "front_desk",
                   {**ok(DRAWER), **errors(404, 409, 422)}, body=CloseDrawerIn,
                   params=[_DRAWER_ID]),
    },
    "/api/v1/drawers/{drawer_id}/reopen": {
        "post": op("Reopen a closed drawer", "manager", {**ok(DRAWER), **errors(404, 409)},
                   params=[_DRAWER_ID]),
    },
    "/api/v1/drawers/{drawer_id}/movements": {
        "post": op("Paid in or paid out of the open drawer", "front_desk",
                   {**ok(DRAWER, "201", "Created"), **errors(404, 409, 422)},
                   body=DrawerMovementIn, params=[_DRAWER_ID], idempotent=True),
    },
}
PATH_GROUPS.append(DRAWER_PATHS)

"""Parked sales: the API twin of the desk's "Park sale" and "Parked sales" list.

A bearer token has no desk, so the API parks a cart it sends, lists the parked sales,
and resumes one by taking it off the list and answering its cart (to be sold with
POST /api/v1/sales).
"""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.extensions import db
from pos.models import DeskCart
from pos.services import carts
from pos.services.carts import CartContents
from pos.web.api import api_bp, api_user, idempotent, page_json, requires
from pos.web.api.openapi import (
    ID,
    INT,
    PATH_GROUPS,
    STR,
    array,
    errors,
    obj,
    ok,
    op,
    path_param,
    query_params,
)
from pos.web.api.schemas import validate_body, validate_query
from pos.web.api.schemas.carts import ParkedSaleIn
from pos.web.api.schemas.queries import PageQuery


def _lines_json(contents: CartContents) -> list[dict[str, Any]]:
    return [{"sku": line.sku, "quantity": line.quantity} if line.sku is not None
            else {"package_code": line.package_code, "quantity": line.quantity}
            for line in contents.lines]


def parked_json(row: DeskCart) -> dict[str, Any]:
    contents = carts.contents_of(row)
    return {"id": row.id, "label": row.label, "client_id": row.client_id,
            "client_name": row.client.full_name if row.client is not None else None,
            "lines": _lines_json(contents), "discount_code": row.discount_code,
            "parked_at": row.updated_at.isoformat(),
            "parked_by": row.user.name if row.user is not None else None}


@api_bp.post("/v1/parked-sales")
@requires("front_desk")
@idempotent
@validate_body(ParkedSaleIn)
def park_sale(body: ParkedSaleIn):  # type: ignore[no-untyped-def]
    parked = carts.park(body.contents(), label=body.label, user_id=api_user().id)
    return jsonify(parked_json(parked)), 201


@api_bp.get("/v1/parked-sales")
@requires("front_desk")
@validate_query(PageQuery)
def list_parked_sales(query: PageQuery):  # type: ignore[no-untyped-def]
    rows, total = carts.parked_sales(db.session, page=query.page, per_page=query.per_page)
    return page_json([parked_json(row) for row in rows], query.page, query.per_page, total)


@api_bp.post("/v1/parked-sales/<int:parked_id>/resume")
@requires("front_desk")
def resume_parked_sale(parked_id: int):  # type: ignore[no-untyped-def]
    contents = carts.resume(parked_id, user_id=api_user().id)
    return jsonify({"client_id": contents.client_id, "label": contents.label,
                    "lines": _lines_json(contents), "discount_code": contents.discount_code})


@api_bp.delete("/v1/parked-sales/<int:parked_id>")
@requires("front_desk")
def delete_parked_sale(parked_id: int):  # type: ignore[no-untyped-def]
    carts.discard(parked_id)
    return "", 204


_NULL_STR = {"type": ["string", "null"]}
_NULL_INT = {"type": ["integer", "null"]}
_LINE = obj(["quantity"], sku=STR, package_code=STR, quantity=INT)
CART = obj(["client_id", "label", "lines", "discount_code"], client_id=_NULL_INT,
           label=_NULL_STR, lines=array(_LINE), discount_code=_NULL_STR)
PARKED_SALE = obj(["id", "label", "client_id", "client_name", "lines", "discount_code",
                   "parked_at", "parked_by"],
                  id=INT, label=STR, client_id=_NULL_INT, client_name=_NULL_STR,
                  lines=array(_LINE), discount_code=_NULL_STR,
                  parked_at={"type": "string", "format": "date-time"}, parked_by=_NULL_STR)
_PARKED_ID = path_param("parked_id", ID)

CART_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/parked-sales": {
        "post": op("Park a sale under the client's name or a label (a walk-in)", "front_desk",
                   {**ok(PARKED_SALE, "201", "Created"), **errors(422)},
                   body=ParkedSaleIn, idempotent=True),
        "get": op("The parked sales, newest first", "front_desk",
                  {**ok(obj(["items", "page", "per_page", "total"], items=array(PARKED_SALE),
                            page=INT, per_page=INT, total=INT)), **errors(422)},
                  params=query_params(PageQuery)),
    },
    "/api/v1/parked-sales/{parked_id}/resume": {
        "post": op("Resume a parked sale: it leaves the list and its cart is answered",
                   "front_desk", {**ok(CART), **errors(404)}, params=[_PARKED_ID]),
    },
    "/api/v1/parked-sales/{parked_id}": {
        "delete": op("Discard a parked sale", "front_desk",
                     {"204": {"description": "Discarded"}, **errors(404)},
                     params=[_PARKED_ID]),
    },
}
PATH_GROUPS.append(CART_PATHS)

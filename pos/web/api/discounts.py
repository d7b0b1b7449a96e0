"""Discount codes (API.md "Back office"): create, list, deactivate [manager].

Deactivating is `PATCH /api/v1/discount-codes/{id}` `{active: false}` (true reactivates).
A manual discount on a sale is part of POST /api/v1/sales (pos/web/api/sales.py).
"""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.extensions import db
from pos.models import DiscountCode
from pos.services import discounts
from pos.web.api import api_bp, api_user, idempotent, page_json, requires
from pos.web.api.openapi import (
    BOOL,
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
from pos.web.api.schemas.discounts import DiscountCodeIn, DiscountCodePatchIn
from pos.web.api.schemas.queries import PageQuery


def code_json(code: DiscountCode) -> dict[str, Any]:
    return {"id": code.id, "code": code.code, "kind": code.kind,
            "value": discounts.api_value(code),
            "starts_on": code.starts_on.isoformat() if code.starts_on else None,
            "ends_on": code.ends_on.isoformat() if code.ends_on else None,
            "max_uses": code.max_uses, "times_used": code.times_used, "active": code.active}


@api_bp.post("/v1/discount-codes")
@requires("manager")
@idempotent
@validate_body(DiscountCodeIn)
def create_discount_code(body: DiscountCodeIn):  # type: ignore[no-untyped-def]
    return jsonify(code_json(discounts.create_code(body.new(), api_user().id))), 201


@api_bp.get("/v1/discount-codes")
@requires("manager")
@validate_query(PageQuery)
def list_discount_codes(query: PageQuery):  # type: ignore[no-untyped-def]
    rows, total = discounts.list_codes(db.session, page=query.page, per_page=query.per_page)
    return page_json([code_json(c) for c in rows], query.page, query.per_page, total)


@api_bp.patch("/v1/discount-codes/<int:code_id>")
@requires("manager")
@validate_body(DiscountCodePatchIn)
def patch_discount_code(code_id: int, body: DiscountCodePatchIn):  # type: ignore[no-untyped-def]
    return jsonify(code_json(discounts.set_active(code_id, body.active, api_user().id)))


_NULL_DATE = {"type": ["string", "null"], "format": "date"}
_NULL_INT = {"type": ["integer", "null"]}
DISCOUNT_CODE = obj(["id", "code", "kind", "value", "starts_on", "ends_on", "max_uses",
                     "times_used", "active"],
                    id=INT, code=STR, kind={"enum": ["percent", "fixed"]}, value=INT,
                    starts_on=_NULL_DATE, ends_on=_NULL_DATE, max_uses=_NULL_INT,
                    times_used=INT, active=BOOL)

DISCOUNT_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/discount-codes": {
        "post": op("Create a discount code (value: whole percent 1-100, or cents)", "manager",
                   {**ok(DISCOUNT_CODE, "201", "Created"), **errors(409, 422)},
                   body=DiscountCodeIn, idempotent=True),
        "get": op("Discount codes, newest first", "manager",
                  {**ok(obj(["items", "page", "per_page", "total"],
                            items=array(DISCOUNT_CODE), page=INT, per_page=INT, total=INT)),
                   **errors(422)}, params=query_params(PageQuery)),
    },
    "/api/v1/discount-codes/{code_id}": {
        "patch": op("Deactivate (active: false) or reactivate a discount code", "manager",
                    {**ok(DISCOUNT_CODE), **errors(404, 422)}, body=DiscountCodePatchIn,
                    params=[path_param("code_id", ID)]),
    },
}
PATH_GROUPS.append(DISCOUNT_PATHS)

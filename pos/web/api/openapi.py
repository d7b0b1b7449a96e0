"""GET /api/openapi.json: the OpenAPI 3.1 description of the API.

Each route module documents its own paths in a dict built with the helpers below; a test
checks that every API route is described and nothing else. Request bodies and query
parameters are not written here: they are the JSON schemas of the very pydantic models
that validate them (pos.web.api.schemas), so the document states every limit the server
enforces. Response schemas are still written by hand.
"""
from __future__ import annotations

import copy
from typing import Any

from flask import jsonify
from pydantic import BaseModel

from pos.domain.limits import MAX_ID
from pos.web.api import api_bp
from pos.web.api.schemas.catalog import AdjustmentIn, NewItemIn, ReceiptIn
from pos.web.api.schemas.queries import ItemsQuery

REF_TEMPLATE = "#/components/schemas/{model}"
# Every model a body refers to, by name: the document's components.
MODEL_SCHEMAS: dict[str, dict[str, Any]] = {}

ERROR = {"$ref": "#/components/schemas/Error"}


def ok(schema: dict[str, Any], status: str = "200", description: str = "OK") -> dict[str, Any]:
    return {status: {"description": description,
                     "content": {"application/json": {"schema": schema}}}}


def errors(*statuses: int) -> dict[str, Any]:
    out = {str(s): {"description": "Error", "content": {"application/json": {"schema": ERROR}}}
           for s in (401, 403, *statuses)}
    return out


def model_ref(model: type[BaseModel]) -> dict[str, Any]:
    """The model's schema in components (with the models it uses), referred to by name."""
    schema = copy.deepcopy(model.model_json_schema(ref_template=REF_TEMPLATE))
    for name, definition in schema.pop("$defs", {}).items():
        MODEL_SCHEMAS[name] = definition
    MODEL_SCHEMAS[model.__name__] = schema
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    """One query parameter per field of the model; null is how a model says "absent"."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    out = []
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k not in {"title", "default"}}
        branches = [b for b in prop.pop("anyOf", []) if b.get("type") != "null"]
        if branches:
            prop.update(branches[0])
        out.append(query_param(name, prop, required=name in schema.get("required", [])))
    return out


def op(summary: str, role: str | None, responses: dict[str, Any], *,
       body: type[BaseModel] | None = None, params: list[dict[str, Any]] | None = None,
       idempotent: bool = False, body_required: bool = True) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if role:
        operation["description"] = f"Minimum role: {role}."
    parameters = list(params or [])
    if idempotent:
        parameters.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "schema": {"type": "string", "maxLength": 255}})
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": {
            "application/json": {"schema": model_ref(body)}}}
    return operation


def path_param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": schema or {"type": "string", "minLength": 1, "maxLength": 64}}


def query_param(name: str, schema: dict[str, Any] | None = None,
                required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required,
            "schema": schema or {"type": "string"}}


def obj(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
# A path id: a larger one cannot exist (404), a smaller one is no id.
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


ITEM = obj(["sku", "name", "kind", "unit", "price_cents", "on_hand", "held", "available",
            "reorder_point", "reorder_quantity", "status"],
           sku=STR, name=STR, kind={"enum": ["supply", "retail", "bundle"]}, unit=STR,
           price_cents=INT, on_hand=INT, held=INT, available=INT, reorder_point=INT,
           reorder_quantity=INT, status={"enum": ["ok", "low", "out"]}, cost_cents=INT,
           taxable=BOOL, active=BOOL)
MOVEMENT_RESULT = obj(["movement_id", "on_hand"], movement_id=INT, on_hand=INT)

CATALOG_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/items": {
        "get": op("List items with stock", "front_desk", {**ok(array(ITEM)), **errors()},
                  params=query_params(ItemsQuery)),
        "post": op("Create an item", "manager", {**ok(ITEM, "201", "Created"),
                                                 **errors(409, 422)},
                   body=NewItemIn, idempotent=True),
    },
    "/api/v1/items/{sku}": {
        "get": op("An item with its lots, soonest expiry first", "front_desk",
                  {**ok({**ITEM, "properties": {**ITEM["properties"], "lots": array(
                      obj(["lot", "expires_on", "on_hand"], lot=STR,
                          expires_on={"type": ["string", "null"], "format": "date"},
                          on_hand=INT, expired=BOOL))}}), **errors(404)},
                  params=[path_param("sku")]),
    },
    "/api/v1/items/{sku}/movements": {
        "get": op("The item's ledger, newest first", "manager",
                  {**ok(array(obj(["id", "at", "qty_delta", "reason", "lot", "reference",
                                   "user"], id=INT, at={"type": "string",
                                                        "format": "date-time"},
                                  qty_delta=INT, reason=STR, lot=STR,
                                  reference={"type": ["string", "null"]},
                                  user={"type": ["string", "null"]},
                                  note={"type": ["string", "null"]}))), **errors(404)},
                  params=[path_param("sku")]),
    },
    "/api/v1/stock/receipts": {
        "post": op("Receive stock", "manager",
                   {**ok(MOVEMENT_RESULT, "201", "Created"), **errors(404, 409, 422)},
                   body=ReceiptIn, idempotent=True),
    },
    "/api/v1/stock/adjustments": {
        "post": op("Adjust or count stock", "manager",
                   {**ok(MOVEMENT_RESULT, "201", "Created"), **errors(404, 409, 422)},
                   body=AdjustmentIn, idempotent=True),
    },
    "/api/v1/packages": {
        "get": op("Treatment packages", "front_desk",
                  {**ok(array(obj(["code", "name", "area", "sessions", "price_cents",
                                   "min_days_between", "max_days_between",
                                   "supplies_per_session"],
                                  code=STR, name=STR, area={"enum": ["face", "scalp"]},
                                  sessions=INT, price_cents=INT, min_days_between=INT,
                                  max_days_between={"type": ["integer", "null"]},
                                  supplies_per_session=array(obj(["sku", "quantity"], sku=STR,
                                                                 quantity=INT))))),
                   **errors()}),
    },
}

# Other route modules append their own path dicts here when they are imported.
PATH_GROUPS: list[dict[str, dict[str, Any]]] = [CATALOG_PATHS]


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for group in PATH_GROUPS:
        for path, operations in group.items():
            paths.setdefault(path, {}).update(operations)
    paths["/api/openapi.json"] = {"get": {"summary": "This document", "security": [],
                                          "responses": {"200": {"description": "OK"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Clinic POS API", "version": "1.0.0"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**MODEL_SCHEMAS, "Error": obj(["error"], error=obj(
                ["code", "message", "details"], code=STR, message=STR,
                details={"type": "object"}))},
        },
    }


@api_bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return jsonify(document())

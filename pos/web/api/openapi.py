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


# Other route modules append their own path dicts here when they are imported.
PATH_GROUPS: list[dict[str, dict[str, Any]]] = []


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

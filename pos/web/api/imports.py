"""CSV imports for a clinic moving from another system [manager]:
`POST /api/v1/imports/items` and `/api/v1/imports/clients`, body text/csv, `?dry_run=true`
to check without writing. The columns and the dollars rule: pos/web/api/schemas/imports.py.

Answers 200 `{rows, created, errors: [], dry_run}` (created 0 on a dry run), or 422
`import_invalid` whose details hold `{rows, created: 0, errors: [{row, field, message}]}`;
nothing is written unless every row is good (one transaction).
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, request

from pos.domain.errors import ValidationFailed
from pos.services import imports
from pos.web.api import api_bp, api_user, requires
from pos.web.api.openapi import BOOL, INT, PATH_GROUPS, STR, array, errors, obj, ok
from pos.web.api.schemas import imports as rows
from pos.web.api.schemas import validate_query
from pos.web.api.schemas.queries import QueryModel

CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")


class ImportQuery(QueryModel):
    dry_run: bool = False


def result_json(result: imports.ImportResult) -> dict[str, Any]:
    return {"rows": result.rows, "created": result.created, "dry_run": result.dry_run,
            "errors": [e.__dict__ for e in result.errors]}


def csv_text() -> str:
    if request.mimetype not in CSV_TYPES:
        raise ValidationFailed("Send the CSV as the body, with Content-Type text/csv.",
                               {"fields": {"body": "must be text/csv"}})
    try:
        return request.get_data(cache=False).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("The CSV must be UTF-8 text.",
                               {"fields": {"body": "not UTF-8"}}) from None


@api_bp.post("/v1/imports/items")
@requires("manager")
@validate_query(ImportQuery)
def import_items(query: ImportQuery):  # type: ignore[no-untyped-def]
    result = imports.import_items(rows.item_rows(csv_text()), dry_run=query.dry_run,
                                  user_id=api_user().id)
    return jsonify(result_json(result))


@api_bp.post("/v1/imports/clients")
@requires("manager")
@validate_query(ImportQuery)
def import_clients(query: ImportQuery):  # type: ignore[no-untyped-def]
    result = imports.import_clients(rows.client_rows(csv_text()), dry_run=query.dry_run,
                                    user_id=api_user().id)
    return jsonify(result_json(result))


_ROW_ERROR = obj(["row", "field", "message"], row=INT, field=STR, message=STR)
IMPORT_RESULT = obj(["rows", "created", "dry_run", "errors"], rows=INT, created=INT,
                    dry_run=BOOL, errors=array(_ROW_ERROR))


def _import_op(what: str, columns: str) -> dict[str, Any]:
    return {
        "summary": f"Import {what} from CSV (all rows or none); dry_run=true only checks",
        "description": f"Minimum role: manager. Columns: {columns}. Rows are numbered as a "
                       "spreadsheet shows them (the header is row 1). A bad row: 422 "
                       "import_invalid with details.errors [{row, field, message}].",
        "parameters": [{"name": "dry_run", "in": "query", "required": False,
                        "schema": {"type": "boolean"}}],
        "requestBody": {"required": True, "content": {
            "text/csv": {"schema": {"type": "string", "maxLength": rows.MAX_BYTES}}}},
        "responses": {**ok(IMPORT_RESULT), **errors(422)},
    }


IMPORT_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/imports/items": {"post": _import_op(
        "items", "sku, name, category (retail|supply|bundle), price (dollars), cost (dollars), "
        "taxable (yes/no), reorder_point, reorder_quantity, barcode, unit (optional)")},
    "/api/v1/imports/clients": {"post": _import_op(
        "clients", "name (or first_name and last_name), email, phone")},
}
PATH_GROUPS.append(IMPORT_PATHS)

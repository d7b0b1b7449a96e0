"""Items, stock and packages: reading them (front desk), creating and changing them (manager)."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.domain.errors import ValidationFailed
from pos.extensions import db
from pos.models import ExpectedTreatments, Package
from pos.services import catalog, expected_treatments, stock
from pos.services.stock import ItemRow
from pos.web.api import api_bp, api_user, idempotent, page_json, requires
from pos.web.api.locations import LOCATION_PARAMS, api_location
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
    path_param,
    query_params,
)
from pos.web.api.schemas import validate_body, validate_query
from pos.web.api.schemas.catalog import (
    AdjustmentIn,
    BundleContentsIn,
    ExpectedTreatmentsIn,
    ItemChangesIn,
    NewItemIn,
    NewPackageIn,
    PackageChangesIn,
    ReceiptIn,
)
from pos.web.api.schemas.queries import ItemsQuery, PackagesQuery, PageQuery
from pos.web.api.schemas.types import path_text


def item_json(row: ItemRow) -> dict[str, Any]:
    item = row.item
    return {
        "sku": item.sku, "name": item.name, "kind": item.kind, "unit": item.unit,
        "price_cents": item.price_cents, "on_hand": row.on_hand, "held": row.held,
        "available": row.available, "reorder_point": item.reorder_point,
        "reorder_quantity": item.reorder_quantity, "status": row.status,
        "cost_cents": item.cost_cents, "taxable": item.taxable, "active": item.active,
        "barcode": item.barcode, "supplier_id": item.supplier_id, "on_order": row.on_order,
    }


def _full_item_json(sku: str, location_id: int | None = None) -> dict[str, Any]:
    """One item: its row and its lots (at the location, or everywhere), its price history
    and (a bundle) its contents."""
    row = stock.item_row(db.session, sku, location_id)
    body = item_json(row)
    body["lots"] = [
        {"lot": r.lot.code, "expires_on": r.lot.expires_on.isoformat() if r.lot.expires_on
         else None, "on_hand": r.on_hand, "expired": r.expired}
        for r in stock.item_lots(db.session, row.item, location_id)
    ]
    body["price_history"] = [
        {"field": c.field, "old_cents": c.old_cents, "new_cents": c.new_cents,
         "changed_by": c.changed_by, "changed_at": c.change.changed_at.isoformat()}
        for c in catalog.price_history(db.session, row.item)
    ]
    if row.item.kind == "bundle":
        body["contents"] = [{"sku": c.item.sku, "quantity": c.quantity}
                            for c in catalog.bundle_contents(db.session, row.item)]
    return body


@api_bp.get("/v1/items")
@requires("front_desk")
@validate_query(ItemsQuery)
def list_items(query: ItemsQuery):  # type: ignore[no-untyped-def]
    rows = stock.list_items(db.session, q=query.q, kind=query.kind, barcode=query.barcode,
                            include_inactive=query.active == "any",
                            only_inactive=query.active == "false",
                            location_id=api_location().id)
    return jsonify([item_json(row) for row in rows])


@api_bp.get("/v1/items/<sku>")
@requires("front_desk")
def get_item(sku: str):  # type: ignore[no-untyped-def]
    sku = path_text(sku, "item")
    return jsonify(_full_item_json(sku, api_location().id))


@api_bp.post("/v1/items")
@requires("manager")
@idempotent
@validate_body(NewItemIn)
def create_item(body: NewItemIn):  # type: ignore[no-untyped-def]
    new = catalog.NewItem(
        sku=body.sku, name=body.name, kind=body.kind, unit=body.unit,
        price_cents=body.price_cents, cost_cents=body.cost_cents or 0,
        reorder_point=body.reorder_point, reorder_quantity=body.reorder_quantity,
        taxable=bool(body.taxable), barcode=body.barcode,
    )
    item = catalog.create_item(new, api_user().id)
    return jsonify(item_json(stock.item_row(db.session, item.sku))), 201


@api_bp.patch("/v1/items/<sku>")
@requires("manager")
@validate_body(ItemChangesIn)
def update_item(sku: str, body: ItemChangesIn):  # type: ignore[no-untyped-def]
    item = catalog.update_item(path_text(sku, "item"), body.changes(), api_user().id)
    return jsonify(_full_item_json(item.sku))


@api_bp.put("/v1/items/<sku>/contents")
@requires("manager")
@validate_body(BundleContentsIn)
def set_contents(sku: str, body: BundleContentsIn):  # type: ignore[no-untyped-def]
    item = catalog.set_bundle_contents(
        path_text(sku, "item"), tuple((line.sku, line.quantity) for line in body.contents),
        api_user().id)
    return jsonify(_full_item_json(item.sku))


@api_bp.post("/v1/stock/receipts")
@requires("manager")
@idempotent
@validate_body(ReceiptIn)
def receive(body: ReceiptIn):  # type: ignore[no-untyped-def]
    result = stock.receive_stock(sku=body.sku, quantity=body.quantity, lot_code=body.lot,
                                 expires_on=body.expires_on,
                                 unit_cost_cents=body.unit_cost_cents, user_id=api_user().id,
                                 location_id=api_location().id)
    return jsonify({"movement_id": result.movement_id, "on_hand": result.on_hand}), 201


@api_bp.post("/v1/stock/adjustments")
@requires("manager")
@idempotent
@validate_body(AdjustmentIn)
def adjust(body: AdjustmentIn):  # type: ignore[no-untyped-def]
    result = stock.adjust_stock(sku=body.sku, lot_code=body.lot, qty_delta=body.qty_delta,
                                reason=body.reason, note=body.note, user_id=api_user().id,
                                location_id=api_location().id)
    return jsonify({"movement_id": result.movement_id, "on_hand": result.on_hand}), 201


@api_bp.get("/v1/items/<sku>/movements")
@requires("manager")
@validate_query(PageQuery)
def movements(sku: str, query: PageQuery):  # type: ignore[no-untyped-def]
    row = stock.item_row(db.session, path_text(sku, "item"))
    rows, total = stock.item_movements_page(db.session, row.item, page=query.page,
                                            per_page=query.per_page,
                                            location_id=api_location().id)
    return page_json([
        {"id": m.id, "at": m.at.isoformat(), "qty_delta": m.qty_delta, "reason": m.reason,
         "lot": lot, "reference": m.reference, "user": email, "note": m.note}
        for m, lot, email in rows
    ], query.page, query.per_page, total)


def package_json(p: Package) -> dict[str, Any]:
    return {"code": p.code, "name": p.name, "area": p.area, "sessions": p.sessions,
            "price_cents": p.price_cents, "min_days_between": p.min_days_between,
            "max_days_between": p.max_days_between, "active": p.active,
            "supplies_per_session": [{"sku": s.item.sku, "quantity": s.quantity}
                                     for s in p.supplies],
            "expected_treatments": expected_json(p.expected_treatments)}


def expected_json(row: ExpectedTreatments | None) -> dict[str, Any] | None:
    """The manager's count of treatments expected in the next 14 days (null: never set)."""
    if row is None:
        return None
    return {"count": row.count, "set_at": row.set_at.isoformat(),
            "set_by": row.set_by.email if row.set_by is not None else None}


@api_bp.get("/v1/packages")
@requires("front_desk")
@validate_query(PackagesQuery)
def packages(query: PackagesQuery):  # type: ignore[no-untyped-def]
    rows = catalog.list_packages(db.session, include_inactive=query.active != "true")
    if query.active == "false":
        rows = [p for p in rows if not p.active]
    return jsonify([package_json(p) for p in rows])


def _lines(lines: Any) -> tuple[tuple[str, int], ...]:
    return tuple((line.sku, line.quantity) for line in lines)


@api_bp.post("/v1/packages")
@requires("manager")
@idempotent
@validate_body(NewPackageIn)
def create_package(body: NewPackageIn):  # type: ignore[no-untyped-def]
    package = catalog.create_package(catalog.NewPackage(
        code=body.code, name=body.name, area=body.area, sessions=body.sessions,
        price_cents=body.price_cents, min_days_between=body.min_days_between,
        max_days_between=body.max_days_between, supplies=_lines(body.supplies_per_session),
        active=body.active is not False), api_user().id)
    return jsonify(package_json(package)), 201


@api_bp.patch("/v1/packages/<code>")
@requires("manager")
@validate_body(PackageChangesIn)
def update_package(code: str, body: PackageChangesIn):  # type: ignore[no-untyped-def]
    code = path_text(code, "package")
    changes = body.changes()
    if changes.pop("code", code) != code:
        raise ValidationFailed("A package's code cannot change: create a new package and "
                               "deactivate this one.", {"fields": {"code": "cannot change"}})
    supplies = changes.pop("supplies_per_session", None)
    package = catalog.update_package(code, changes, None if supplies is None
                                     else _lines(supplies), api_user().id)
    return jsonify(package_json(package))


@api_bp.put("/v1/packages/<code>/expected-treatments")
@requires("manager")
@validate_body(ExpectedTreatmentsIn)
def set_expected_treatments(code: str, body: ExpectedTreatmentsIn):  # type: ignore[no-untyped-def]
    """The reorder page's "expected treatments" twin: the package's count for the next
    14 days, which the reorder list multiplies by its bill of materials."""
    code = path_text(code, "package")
    package = expected_treatments.set_expected_treatments(code, body.count, api_user().id)
    return jsonify(package_json(package))


# -- OpenAPI -------------------------------------------------------------------------------

_NULL_STR = {"type": ["string", "null"]}
ITEM = obj(["sku", "name", "kind", "unit", "price_cents", "on_hand", "held", "available",
            "reorder_point", "reorder_quantity", "status", "barcode", "active"],
           sku=STR, name=STR, kind={"enum": ["supply", "retail", "bundle"]}, unit=STR,
           price_cents=INT, on_hand=INT, held=INT, available=INT, reorder_point=INT,
           reorder_quantity=INT, status={"enum": ["ok", "low", "out"]}, cost_cents=INT,
           taxable=BOOL, active=BOOL, barcode=_NULL_STR,
           supplier_id={"type": ["integer", "null"]}, on_order=INT)
LINES = array(obj(["sku", "quantity"], sku=STR, quantity=INT))
FULL_ITEM = {**ITEM, "properties": {
    **ITEM["properties"],
    "lots": array(obj(["lot", "expires_on", "on_hand"], lot=STR,
                      expires_on={"type": ["string", "null"], "format": "date"},
                      on_hand=INT, expired=BOOL)),
    "price_history": array(obj(["field", "old_cents", "new_cents", "changed_by", "changed_at"],
                               field={"enum": ["price_cents", "cost_cents"]}, old_cents=INT,
                               new_cents=INT, changed_by=_NULL_STR,
                               changed_at={"type": "string", "format": "date-time"})),
    "contents": LINES}}
MOVEMENT = obj(["id", "at", "qty_delta", "reason", "lot", "reference", "user"],
               id=INT, at={"type": "string", "format": "date-time"}, qty_delta=INT,
               reason=STR, lot=STR, reference=_NULL_STR, user=_NULL_STR, note=_NULL_STR)
MOVEMENT_RESULT = obj(["movement_id", "on_hand"], movement_id=INT, on_hand=INT)
PACKAGE = obj(["code", "name", "area", "sessions", "price_cents", "min_days_between",
               "max_days_between", "supplies_per_session"],
              code=STR, name=STR, area={"enum": ["face", "scalp"]}, sessions=INT,
              price_cents=INT, min_days_between=INT,
              max_days_between={"type": ["integer", "null"]}, active=BOOL,
              supplies_per_session=LINES,
              expected_treatments={"anyOf": [
                  {"type": "null"},
                  obj(["count", "set_at", "set_by"], count=INT,
                      set_at={"type": "string", "format": "date-time"}, set_by=_NULL_STR)]})
_SKU = path_param("sku")

CATALOG_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/items": {
        "get": op("List items with stock (?barcode=: the one item that carries it)",
                  "front_desk", {**ok(array(ITEM)), **errors(422)},
                  params=[*query_params(ItemsQuery), *LOCATION_PARAMS]),
        "post": op("Create an item", "manager", {**ok(ITEM, "201", "Created"),
                                                 **errors(409, 422)},
                   body=NewItemIn, idempotent=True),
    },
    "/api/v1/items/{sku}": {
        "get": op("An item with its lots (soonest expiry first) and price history",
                  "front_desk", {**ok(FULL_ITEM), **errors(404, 422)},
                  params=[_SKU, *LOCATION_PARAMS]),
        "patch": op("Change an item; a duplicate barcode is 409 barcode_taken", "manager",
                    {**ok(FULL_ITEM), **errors(404, 409, 422)}, body=ItemChangesIn,
                    params=[_SKU]),
    },
    "/api/v1/items/{sku}/contents": {
        "put": op("Replace what one kit of a bundle item holds", "manager",
                  {**ok(FULL_ITEM), **errors(404, 422)}, body=BundleContentsIn,
                  params=[_SKU]),
    },
    "/api/v1/items/{sku}/movements": {
        "get": op("The item's ledger, newest first", "manager",
                  {**ok(obj(["items", "page", "per_page", "total"], items=array(MOVEMENT),
                            page=INT, per_page=INT, total=INT)), **errors(404, 422)},
                  params=[_SKU, *query_params(PageQuery), *LOCATION_PARAMS]),
    },
    "/api/v1/stock/receipts": {
        "post": op("Receive stock", "manager",
                   {**ok(MOVEMENT_RESULT, "201", "Created"), **errors(404, 409, 422)},
                   body=ReceiptIn, idempotent=True, params=LOCATION_PARAMS),
    },
    "/api/v1/stock/adjustments": {
        "post": op("Adjust or count stock", "manager",
                   {**ok(MOVEMENT_RESULT, "201", "Created"), **errors(404, 409, 422)},
                   body=AdjustmentIn, idempotent=True, params=LOCATION_PARAMS),
    },
    "/api/v1/packages": {
        "get": op("Treatment packages", "front_desk", {**ok(array(PACKAGE)), **errors(422)},
                  params=query_params(PackagesQuery)),
        "post": op("Create a package with its bill of materials", "manager",
                   {**ok(PACKAGE, "201", "Created"), **errors(409, 422)},
                   body=NewPackageIn, idempotent=True),
    },
    "/api/v1/packages/{code}": {
        "patch": op("Change a package (its bill of materials: future treatments only)",
                    "manager", {**ok(PACKAGE), **errors(404, 422)}, body=PackageChangesIn,
                    params=[path_param("code")]),
    },
    "/api/v1/packages/{code}/expected-treatments": {
        "put": op("Set the package's treatments expected in the next 14 days (0-10000): "
                  "with its bill of materials, they feed the reorder list", "manager",
                  {**ok(PACKAGE), **errors(404, 422)}, body=ExpectedTreatmentsIn,
                  params=[path_param("code")]),
    },
}
PATH_GROUPS.append(CATALOG_PATHS)

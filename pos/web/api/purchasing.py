"""Suppliers, purchase orders, counts by the number counted and lot corrections (API.md
"Purchasing, counts, locations"). All [manager]."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request

from pos.domain.errors import NotFound
from pos.domain.limits import MAX_ID
from pos.extensions import db
from pos.models import PurchaseOrder, Supplier
from pos.services import counts, purchasing, stock, suppliers
from pos.web import current_settings
from pos.web.api import api_bp, api_user, idempotent, page_json, requires
from pos.web.api.locations import LOCATION_PARAMS, api_location, api_location_id
from pos.web.api.openapi import (
    DATE,
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
from pos.web.api.schemas import parse_json, validate_body, validate_query
from pos.web.api.schemas.purchasing import (
    PO_STATUSES,
    CountIn,
    LotCorrectionIn,
    NewPurchaseOrderIn,
    NewSupplierIn,
    PurchaseOrderLinesIn,
    PurchaseOrderReceiptIn,
    PurchaseOrdersQuery,
    SupplierChangesIn,
)
from pos.web.api.schemas.types import path_text


def _known_id(order_id: int) -> int:
    if order_id > MAX_ID:
        raise NotFound(f"There is no purchase order {order_id}.",
                       {"purchase_order_id": order_id})
    return order_id


def supplier_json(s: Supplier) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "email": s.email, "lead_time_days": s.lead_time_days,
            "minimum_order_cents": s.minimum_order_cents}


def order_json(order: PurchaseOrder) -> dict[str, Any]:
    return {
        "id": order.id, "supplier_id": order.supplier_id, "status": order.status,
        "created_at": order.created_at.isoformat(),
        "sent_at": order.sent_at.isoformat() if order.sent_at else None,
        "lines": [{"sku": line.item.sku, "quantity": line.quantity,
                   "received": line.received, "unit_cost_cents": line.unit_cost_cents}
                  for line in order.lines],
    }


def _order_json(order_id: int) -> dict[str, Any]:
    db.session.expire_all()
    return order_json(purchasing.get_order(db.session, order_id))


def _order_lines(lines: Any) -> list[purchasing.OrderLineIn]:
    return [purchasing.OrderLineIn(line.sku, line.quantity, line.unit_cost_cents)
            for line in lines]


@api_bp.get("/v1/suppliers")
@requires("manager")
def list_suppliers():  # type: ignore[no-untyped-def]
    return jsonify([supplier_json(s) for s in suppliers.list_suppliers(db.session)])


@api_bp.post("/v1/suppliers")
@requires("manager")
@idempotent
@validate_body(NewSupplierIn)
def create_supplier(body: NewSupplierIn):  # type: ignore[no-untyped-def]
    supplier = suppliers.create_supplier(
        name=body.name, email=body.email, lead_time_days=body.lead_time_days,
        minimum_order_cents=body.minimum_order_cents, user_id=api_user().id)
    return jsonify(supplier_json(supplier)), 201


@api_bp.patch("/v1/suppliers/<int:supplier_id>")
@requires("manager")
@validate_body(SupplierChangesIn)
def update_supplier(supplier_id: int, body: SupplierChangesIn):  # type: ignore[no-untyped-def]
    """The supplier edit page's twin: a lead time, an address or a minimum order corrected."""
    if supplier_id > MAX_ID:
        raise NotFound(f"There is no supplier {supplier_id}.", {"supplier_id": supplier_id})
    supplier = suppliers.update_supplier(supplier_id, body.changes(), api_user().id)
    return jsonify(supplier_json(supplier))


@api_bp.get("/v1/purchase-orders")
@requires("manager")
@validate_query(PurchaseOrdersQuery)
def list_orders(query: PurchaseOrdersQuery):  # type: ignore[no-untyped-def]
    rows, total = purchasing.orders_page(db.session, page=query.page, per_page=query.per_page,
                                         status=query.status)
    return page_json([order_json(o) for o in rows], query.page, query.per_page, total)


@api_bp.post("/v1/purchase-orders")
@requires("manager")
@idempotent
@validate_body(NewPurchaseOrderIn)
def create_order(body: NewPurchaseOrderIn):  # type: ignore[no-untyped-def]
    order = purchasing.create_order(body.supplier_id, _order_lines(body.lines),
                                    api_user().id)
    return jsonify(_order_json(order.id)), 201


@api_bp.post("/v1/purchase-orders/from-reorder")
@requires("manager")
@idempotent
def orders_from_reorder():  # type: ignore[no-untyped-def]
    drafted = purchasing.drafts_from_reorder(current_settings().reorder_cover_days,
                                             api_user().id)
    ids = [order.id for order in drafted.orders]
    return jsonify({"orders": [_order_json(i) for i in ids], "skipped": drafted.skipped}), 201


# One rule for both methods: with two rules, werkzeug answers an id too large for the
# database with 405 (from the other rule's method) instead of 404.
@api_bp.route("/v1/purchase-orders/<int:order_id>", methods=["GET", "PATCH"])
@requires("manager")
def order(order_id: int):  # type: ignore[no-untyped-def]
    """GET: the order. PATCH {lines}: a draft's lines replaced (the edit page's twin)."""
    order_id = _known_id(order_id)
    if request.method == "GET":
        return jsonify(_order_json(order_id))
    body = parse_json(PurchaseOrderLinesIn)
    edited = purchasing.replace_lines(order_id, _order_lines(body.lines), api_user().id)
    return jsonify(_order_json(edited.id))


@api_bp.post("/v1/purchase-orders/<int:order_id>/send")
@requires("manager")
def send_order(order_id: int):  # type: ignore[no-untyped-def]
    order = purchasing.send_order(_known_id(order_id), api_user().id)
    return jsonify(_order_json(order.id))


@api_bp.post("/v1/purchase-orders/<int:order_id>/receipts")
@requires("manager")
@idempotent
@validate_body(PurchaseOrderReceiptIn)
def receive_order(order_id: int, body: PurchaseOrderReceiptIn):  # type: ignore[no-untyped-def]
    order = purchasing.receive_order(
        _known_id(order_id),
        [purchasing.ReceiptLineIn(line.sku, line.quantity, line.lot, line.expires_on)
         for line in body.lines], api_user().id, api_location_id())
    return jsonify(_order_json(order.id)), 201


@api_bp.post("/v1/purchase-orders/<int:order_id>/cancel")
@requires("manager")
def cancel_order(order_id: int):  # type: ignore[no-untyped-def]
    order = purchasing.cancel_order(_known_id(order_id), api_user().id)
    return jsonify(_order_json(order.id))


@api_bp.post("/v1/stock/counts")
@requires("manager")
@idempotent
@validate_body(CountIn)
def count_stock(body: CountIn):  # type: ignore[no-untyped-def]
    lines = counts.record_count(
        [counts.CountLine(line.sku, line.lot, line.counted) for line in body.lines],
        body.note, api_user().id, location_id=api_location().id)
    return jsonify({"lines": [
        {"sku": c.sku, "lot": c.lot, "on_hand_before": c.on_hand_before,
         "counted": c.counted, "difference": c.difference, "movement_id": c.movement_id}
        for c in lines]}), 201


@api_bp.patch("/v1/lots/<lot>")
@requires("manager")
@validate_body(LotCorrectionIn)
def correct_lot(lot: str, body: LotCorrectionIn):  # type: ignore[no-untyped-def]
    corrected = stock.correct_lot_expiry(
        sku=body.sku, lot_code=path_text(lot, "lot"), expires_on=body.expires_on,
        reason=body.reason, user_id=api_user().id, settings=current_settings())
    return jsonify({"sku": body.sku, "lot": corrected.code,
                    "expires_on": corrected.expires_on.isoformat()
                    if corrected.expires_on else None})


# -- OpenAPI -------------------------------------------------------------------------------

_NULL_INT = {"type": ["integer", "null"]}
SUPPLIER = obj(["id", "name", "email", "lead_time_days", "minimum_order_cents"], id=INT,
               name=STR, email=STR, lead_time_days=INT, minimum_order_cents=_NULL_INT)
ORDER = obj(["id", "supplier_id", "status", "lines"], id=INT, supplier_id=INT,
            status={"enum": list(PO_STATUSES)},
            created_at={"type": "string", "format": "date-time"},
            sent_at={"type": ["string", "null"], "format": "date-time"},
            lines=array(obj(["sku", "quantity", "received", "unit_cost_cents"], sku=STR,
                            quantity=INT, received=INT, unit_cost_cents=INT)))
COUNTED = obj(["lines"], lines=array(obj(
    ["sku", "lot", "on_hand_before", "counted", "difference", "movement_id"], sku=STR,
    lot=STR, on_hand_before=INT, counted=INT, difference=INT, movement_id=_NULL_INT)))
LOT = obj(["sku", "lot", "expires_on"], sku=STR, lot=STR, expires_on=DATE)
_ORDER_ID = path_param("order_id", ID)

PURCHASING_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/suppliers": {
        "get": op("Suppliers, by name", "manager", ok(array(SUPPLIER))),
        "post": op("Add a supplier", "manager",
                   {**ok(SUPPLIER, "201", "Created"), **errors(409, 422)},
                   body=NewSupplierIn, idempotent=True),
    },
    "/api/v1/suppliers/{supplier_id}": {
        "patch": op("Correct a supplier (its lead time feeds the reorder list)", "manager",
                    {**ok(SUPPLIER), **errors(404, 409, 422)}, body=SupplierChangesIn,
                    params=[path_param("supplier_id", ID)]),
    },
    "/api/v1/purchase-orders": {
        "get": op("Purchase orders, newest first", "manager",
                  {**ok(obj(["items", "page", "per_page", "total"], items=array(ORDER),
                            page=INT, per_page=INT, total=INT)), **errors(422)},
                  params=query_params(PurchaseOrdersQuery)),
        "post": op("Draft a purchase order", "manager",
                   {**ok(ORDER, "201", "Created"), **errors(404, 422)},
                   body=NewPurchaseOrderIn, idempotent=True),
    },
    "/api/v1/purchase-orders/from-reorder": {
        "post": op("Draft one order per supplier from the reorder list; items without a "
                   "supplier are listed in skipped", "manager",
                   {**ok(obj(["orders", "skipped"], orders=array(ORDER), skipped=array(STR)),
                         "201", "Created")}, idempotent=True),
    },
    "/api/v1/purchase-orders/{order_id}": {
        "get": op("A purchase order with what each line has received", "manager",
                  {**ok(ORDER), **errors(404)}, params=[_ORDER_ID]),
        "patch": op("Replace a draft's lines", "manager",
                    {**ok(ORDER), **errors(404, 409, 422)}, body=PurchaseOrderLinesIn,
                    params=[_ORDER_ID]),
    },
    "/api/v1/purchase-orders/{order_id}/send": {
        "post": op("Email the draft to its supplier (outbox), once", "manager",
                   {**ok(ORDER), **errors(404, 409)}, params=[_ORDER_ID]),
    },
    "/api/v1/purchase-orders/{order_id}/receipts": {
        "post": op("Receive in part or whole, with lot and expiry per line; more than is "
                   "still due: 422 receipt_exceeds_order", "manager",
                   {**ok(ORDER, "201", "Created"), **errors(404, 409, 422)},
                   body=PurchaseOrderReceiptIn, params=[_ORDER_ID, *LOCATION_PARAMS],
                   idempotent=True),
    },
    "/api/v1/purchase-orders/{order_id}/cancel": {
        "post": op("Cancel what is not yet received", "manager",
                   {**ok(ORDER), **errors(404, 409)}, params=[_ORDER_ID]),
    },
    "/api/v1/stock/counts": {
        "post": op("Record a count by the number counted per lot; differences become count "
                   "movements; a large difference needs the note (422 note_required)",
                   "manager", {**ok(COUNTED, "201", "Created"), **errors(404, 409, 422)},
                   body=CountIn, idempotent=True, params=LOCATION_PARAMS),
    },
    "/api/v1/lots/{lot}": {
        "patch": op("Correct a lot's expiry (audited; expiry alerts re-evaluated)", "manager",
                    {**ok(LOT), **errors(404, 422)}, body=LotCorrectionIn,
                    params=[path_param("lot")]),
    },
}
PATH_GROUPS.append(PURCHASING_PATHS)

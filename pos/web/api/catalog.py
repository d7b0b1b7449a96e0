"""Items, stock and packages."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.extensions import db
from pos.services import catalog, stock
from pos.services.stock import ItemRow
from pos.web.api import api_bp, api_user, idempotent, requires
from pos.web.api.schemas import validate_body, validate_query
from pos.web.api.schemas.catalog import AdjustmentIn, NewItemIn, ReceiptIn
from pos.web.api.schemas.queries import ItemsQuery
from pos.web.api.schemas.types import path_text


def item_json(row: ItemRow) -> dict[str, Any]:
    item = row.item
    return {
        "sku": item.sku, "name": item.name, "kind": item.kind, "unit": item.unit,
        "price_cents": item.price_cents, "on_hand": row.on_hand, "held": row.held,
        "available": row.available, "reorder_point": item.reorder_point,
        "reorder_quantity": item.reorder_quantity, "status": row.status,
        "cost_cents": item.cost_cents, "taxable": item.taxable, "active": item.active,
    }


@api_bp.get("/v1/items")
@requires("front_desk")
@validate_query(ItemsQuery)
def list_items(query: ItemsQuery):  # type: ignore[no-untyped-def]
    rows = stock.list_items(db.session, q=query.q, kind=query.kind)
    return jsonify([item_json(row) for row in rows])


@api_bp.get("/v1/items/<sku>")
@requires("front_desk")
def get_item(sku: str):  # type: ignore[no-untyped-def]
    row = stock.item_row(db.session, path_text(sku, "item"))
    body = item_json(row)
    body["lots"] = [
        {"lot": r.lot.code, "expires_on": r.lot.expires_on.isoformat() if r.lot.expires_on
         else None, "on_hand": r.on_hand, "expired": r.expired}
        for r in stock.item_lots(db.session, row.item)
    ]
    return jsonify(body)


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


@api_bp.post("/v1/stock/receipts")
@requires("manager")
@idempotent
@validate_body(ReceiptIn)
def receive(body: ReceiptIn):  # type: ignore[no-untyped-def]
    result = stock.receive_stock(sku=body.sku, quantity=body.quantity, lot_code=body.lot,
                                 expires_on=body.expires_on,
                                 unit_cost_cents=body.unit_cost_cents, user_id=api_user().id)
    return jsonify({"movement_id": result.movement_id, "on_hand": result.on_hand}), 201


@api_bp.post("/v1/stock/adjustments")
@requires("manager")
@idempotent
@validate_body(AdjustmentIn)
def adjust(body: AdjustmentIn):  # type: ignore[no-untyped-def]
    result = stock.adjust_stock(sku=body.sku, lot_code=body.lot, qty_delta=body.qty_delta,
                                reason=body.reason, note=body.note, user_id=api_user().id)
    return jsonify({"movement_id": result.movement_id, "on_hand": result.on_hand}), 201


@api_bp.get("/v1/items/<sku>/movements")
@requires("manager")
def movements(sku: str):  # type: ignore[no-untyped-def]
    row = stock.item_row(db.session, path_text(sku, "item"))
    return jsonify([
        {"id": m.id, "at": m.at.isoformat(), "qty_delta": m.qty_delta, "reason": m.reason,
         "lot": lot, "reference": m.reference, "user": email, "note": m.note}
        for m, lot, email in stock.item_movements(db.session, row.item)
    ])


@api_bp.get("/v1/packages")
@requires("front_desk")
def packages():  # type: ignore[no-untyped-def]
    return jsonify([
        {"code": p.code, "name": p.name, "area": p.area, "sessions": p.sessions,
         "price_cents": p.price_cents, "min_days_between": p.min_days_between,
         "max_days_between": p.max_days_between,
         "supplies_per_session": [{"sku": s.item.sku, "quantity": s.quantity}
                                  for s in p.supplies]}
        for p in catalog.list_packages(db.session)
    ])

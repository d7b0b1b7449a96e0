"""Items, stock and packages."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request

from pos.domain.stock import ADJUSTMENT_REASONS
from pos.extensions import db
from pos.models.catalog import ITEM_KINDS
from pos.services import catalog, stock
from pos.services.stock import ItemRow
from pos.web.api import api_bp, api_user, idempotent, requires
from pos.web.api.inputs import SKU_PATTERN, json_body


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
def list_items():  # type: ignore[no-untyped-def]
    kind = request.args.get("kind") or None
    rows = stock.list_items(db.session, q=(request.args.get("q") or "")[:100] or None,
                            kind=kind if kind in ITEM_KINDS else None)
    return jsonify([item_json(row) for row in rows])


@api_bp.get("/v1/items/<sku>")
@requires("front_desk")
def get_item(sku: str):  # type: ignore[no-untyped-def]
    row = stock.item_row(db.session, sku)
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
def create_item():  # type: ignore[no-untyped-def]
    body = json_body()
    new = catalog.NewItem(
        sku=body.string("sku", max_len=40, pattern=SKU_PATTERN) or "",
        name=body.string("name", max_len=120) or "",
        kind=body.choice("kind", ITEM_KINDS) or "",
        unit=body.string("unit", max_len=20) or "",
        price_cents=body.cents("price_cents") or 0,
        cost_cents=body.cents("cost_cents", required=False, default=0) or 0,
        reorder_point=body.quantity("reorder_point", minimum=0) or 0,
        reorder_quantity=body.quantity("reorder_quantity", minimum=0) or 0,
        taxable=body.boolean("taxable", required=False),
        barcode=body.string("barcode", max_len=64, required=False, pattern=SKU_PATTERN),
    )
    body.finish()
    item = catalog.create_item(new, api_user().id)
    return jsonify(item_json(stock.item_row(db.session, item.sku))), 201


@api_bp.post("/v1/stock/receipts")
@requires("manager")
@idempotent
def receive():  # type: ignore[no-untyped-def]
    body = json_body()
    sku = body.string("sku", max_len=40)
    quantity = body.quantity("quantity")
    lot = body.string("lot", max_len=60, required=False)
    expires_on = body.date("expires_on", required=False)
    unit_cost = body.cents("unit_cost_cents", required=False)
    body.finish()
    result = stock.receive_stock(sku=sku or "", quantity=quantity or 0, lot_code=lot,
                                 expires_on=expires_on, unit_cost_cents=unit_cost,
                                 user_id=api_user().id)
    return jsonify({"movement_id": result.movement_id, "on_hand": result.on_hand}), 201


@api_bp.post("/v1/stock/adjustments")
@requires("manager")
@idempotent
def adjust():  # type: ignore[no-untyped-def]
    body = json_body()
    sku = body.string("sku", max_len=40)
    lot = body.string("lot", max_len=60, required=False)
    qty_delta = body.integer("qty_delta", minimum=-1_000_000, maximum=1_000_000)
    if qty_delta == 0:
        body.errors["qty_delta"] = "must not be 0: an adjustment changes the quantity"
    reason = body.choice("reason", ADJUSTMENT_REASONS)
    note = body.string("note", max_len=500, required=False)
    body.finish()
    result = stock.adjust_stock(sku=sku or "", lot_code=lot, qty_delta=qty_delta or 0,
                                reason=reason or "", note=note, user_id=api_user().id)
    return jsonify({"movement_id": result.movement_id, "on_hand": result.on_hand}), 201


@api_bp.get("/v1/items/<sku>/movements")
@requires("manager")
def movements(sku: str):  # type: ignore[no-untyped-def]
    row = stock.item_row(db.session, sku)
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

"""Sales, refunds and voids (API.md "Sales and payment")."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.domain.errors import NotFound, ValidationFailed
from pos.domain.statuses import PaymentMethod, PaymentStatus, SaleStatus
from pos.extensions import db
from pos.models import Sale
from pos.services import refunds, sales
from pos.web.api import api_bp, api_user, idempotent, requires
from pos.web.api.inputs import MAX_QUANTITY, json_body
from pos.web.api.openapi import (
    BOOL,
    CENTS,
    INT,
    PATH_GROUPS,
    STR,
    array,
    errors,
    obj,
    ok,
    op,
    path_param,
)

MAX_ID = 2**31 - 1


def _known_id(sale_id: int) -> int:
    """An id too large for the column is simply not found (never a database error)."""
    if sale_id > MAX_ID:
        raise NotFound(f"There is no sale {sale_id}.", {"sale_id": sale_id})
    return sale_id


def sale_json(sale: Sale) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": sale.id, "status": sale.status, "client_id": sale.client_id,
        "payment_method": sale.payment_method,
        "subtotal_cents": sale.subtotal_cents, "discount_cents": sale.discount_cents,
        "tax_cents": sale.tax_cents, "total_cents": sale.total_cents,
        "discount_code": sale.discount_code.code if sale.discount_code else None,
        "receipt_number": sale.receipt_number,
        "created_at": sale.created_at.isoformat() if sale.created_at else None,
        "paid_at": sale.paid_at.isoformat() if sale.paid_at else None,
        "card_last4": sale.card_last4,
        "cash_tendered_cents": sale.cash_tendered_cents,
        "change_cents": (sale.cash_tendered_cents - sale.total_cents
                         if sale.cash_tendered_cents is not None else None),
        "flag": sale.flag,
        "payments": [
            {"id": tender.id, "method": tender.method, "amount_cents": tender.amount_cents,
             "status": tender.status,
             **({"card_brand": tender.card_brand} if tender.card_brand else {}),
             **({"last4": tender.last4} if tender.last4 else {}),
             "tip_cents": tender.tip_cents}
            for tender in sale.payments
        ],
        "lines": [
            {"id": line.id,
             **({"sku": line.item.sku} if line.item is not None else
                {"package_code": line.package.code if line.package else None}),
             "name": line.name, "category": line.category, "quantity": line.quantity,
             "unit_price_cents": line.unit_price_cents, "subtotal_cents": line.subtotal_cents,
             "discount_cents": line.discount_cents, "tax_cents": line.tax_cents,
             "total_cents": line.total_cents, "refunded_quantity": line.refunded_quantity}
            for line in sale.lines
        ],
    }
    if sale.payment_method == PaymentMethod.CARD:
        body["checkout_session_id"] = sale.checkout_session_id
        body["checkout_url"] = (sale.checkout_url
                                if sale.status == SaleStatus.AWAITING_PAYMENT else None)
        body["expires_at"] = sale.expires_at.isoformat() if sale.expires_at else None
        body["gateway"] = sale.gateway
    return body


def _cart_lines(raw: Any) -> list[sales.CartLine]:
    """`lines` exactly as API.md has them; every problem in one 422."""
    problems: dict[str, str] = {}
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed("lines must be a non-empty list of {sku | package_code, "
                               "quantity}.", {"fields": {"lines": "must be a non-empty list"}})
    if len(raw) > sales.MAX_LINES:
        raise ValidationFailed(f"A sale has at most {sales.MAX_LINES} lines.",
                               {"fields": {"lines": f"at most {sales.MAX_LINES}"}})
    out = []
    for i, line in enumerate(raw):
        name = f"lines[{i}]"
        if not isinstance(line, dict):
            problems[name] = "must be an object"
            continue
        unknown = set(line) - {"sku", "package_code", "quantity"}
        if unknown:
            problems[name] = f"has unknown fields: {', '.join(sorted(map(str, unknown)))}"
            continue
        sku, code = line.get("sku"), line.get("package_code")
        if (sku is None) == (code is None):
            problems[name] = "needs exactly one of sku and package_code"
            continue
        ref = sku if sku is not None else code
        if not isinstance(ref, str) or not ref.strip() or len(ref) > 64 or \
                any(ord(c) < 32 for c in ref):
            problems[f"{name}.{'sku' if sku is not None else 'package_code'}"] = \
                "must be a non-empty string of at most 64 characters"
            continue
        quantity = line.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            problems[f"{name}.quantity"] = "must be a whole number"
            continue
        if not 1 <= quantity <= MAX_QUANTITY:
            problems[f"{name}.quantity"] = f"must be between 1 and {MAX_QUANTITY}"
            continue
        out.append(sales.CartLine(sku=sku.strip() if sku is not None else None,
                                  package_code=code.strip() if code is not None else None,
                                  quantity=quantity))
    if problems:
        listed = "; ".join(f"{k} {v}" for k, v in sorted(problems.items()))
        raise ValidationFailed(f"Some lines are not right: {listed}.", {"fields": problems})
    return out


@api_bp.post("/v1/sales")
@requires("front_desk")
@idempotent
def create_sale():  # type: ignore[no-untyped-def]
    body = json_body()
    client_id = body.integer("client_id", minimum=1, maximum=MAX_ID, required=False)
    payment = body.choice("payment", sales.PAYMENT_METHODS)
    discount_code = body.string("discount_code", max_len=40, required=False)
    tendered = body.cents("cash_tendered_cents", required=False)
    raw_lines = body.raw("lines")
    try:
        lines = _cart_lines(raw_lines)
    except ValidationFailed as error:
        body.errors.update(error.details["fields"])
        lines = []
    body.finish()
    sale = sales.sell(client_id=client_id, lines=lines, discount_code=discount_code,
                      payment=payment or "", user_id=api_user().id,
                      cash_tendered_cents=tendered if payment == "cash" else None)
    return jsonify(sale_json(sale)), 201


@api_bp.get("/v1/sales/<int:sale_id>")
@requires("front_desk")
def get_sale(sale_id: int):  # type: ignore[no-untyped-def]
    return jsonify(sale_json(sales.get_sale(db.session, _known_id(sale_id))))


@api_bp.post("/v1/sales/<int:sale_id>/refunds")
@requires("manager")
@idempotent
def refund_sale(sale_id: int):  # type: ignore[no-untyped-def]
    body = json_body()
    raw = body.raw("lines")
    requested: list[tuple[int, int]] = []
    if raw is None:
        body.errors["lines"] = "is required"
    elif not isinstance(raw, list) or not raw:
        body.errors["lines"] = "must be a non-empty list of {line_id, quantity}"
    else:
        for i, line in enumerate(raw):
            line_id = line.get("line_id") if isinstance(line, dict) else None
            quantity = line.get("quantity") if isinstance(line, dict) else None
            if not isinstance(line, dict):
                body.errors[f"lines[{i}]"] = "must be an object"
            elif isinstance(line_id, bool) or not isinstance(line_id, int) or \
                    not 1 <= line_id <= MAX_ID:
                body.errors[f"lines[{i}].line_id"] = "must be a sale line id"
            elif isinstance(quantity, bool) or not isinstance(quantity, int) or \
                    not 1 <= quantity <= MAX_QUANTITY:
                body.errors[f"lines[{i}].quantity"] = \
                    f"must be a whole number between 1 and {MAX_QUANTITY}"
            else:
                requested.append((line_id, quantity))
    restock = body.boolean("restock")
    reason = body.string("reason", max_len=500)
    body.finish()
    refund = refunds.refund_sale(_known_id(sale_id), requested, restock=restock,
                                 reason=reason or "", user_id=api_user().id)
    return jsonify({"refund_id": refund.id, "amount_cents": refund.amount_cents,
                    "tax_cents": refund.tax_cents, "status": refund.status,
                    "receipt_number": refund.receipt_number}), 201


@api_bp.post("/v1/sales/<int:sale_id>/void")
@requires("manager")
def void_sale(sale_id: int):  # type: ignore[no-untyped-def]
    return jsonify(sale_json(sales.void_sale(_known_id(sale_id), api_user().id)))


_LINE = obj(["id", "name", "quantity", "unit_price_cents", "subtotal_cents", "discount_cents",
             "tax_cents", "total_cents"],
            id=INT, sku=STR, package_code=STR, name=STR, category=STR, quantity=INT,
            unit_price_cents=INT, subtotal_cents=INT, discount_cents=INT, tax_cents=INT,
            total_cents=INT, refunded_quantity=INT)
_NULL_STR = {"type": ["string", "null"]}
_NULL_INT = {"type": ["integer", "null"]}
_PAYMENT = obj(["id", "method", "amount_cents", "status", "tip_cents"],
               id=INT, method={"enum": [m.value for m in PaymentMethod]}, amount_cents=INT,
               status={"enum": [s.value for s in PaymentStatus]}, card_brand=STR, last4=STR,
               tip_cents=INT)
SALE = obj(["id", "status", "subtotal_cents", "discount_cents", "tax_cents", "total_cents",
            "lines", "receipt_number", "client_id", "payment_method", "paid_at", "payments"],
           id=INT, status={"enum": [s.value for s in SaleStatus]},
           client_id=_NULL_INT, payment_method={"enum": [m.value for m in PaymentMethod]},
           subtotal_cents=INT, discount_cents=INT, tax_cents=INT, total_cents=INT,
           discount_code=_NULL_STR, receipt_number=_NULL_INT,
           created_at={"type": ["string", "null"], "format": "date-time"},
           paid_at={"type": ["string", "null"], "format": "date-time"},
           card_last4=_NULL_STR, cash_tendered_cents=_NULL_INT, change_cents=_NULL_INT,
           flag=_NULL_STR, payments=array(_PAYMENT), lines=array(_LINE),
           checkout_url=_NULL_STR,
           checkout_session_id=_NULL_STR,
           expires_at={"type": ["string", "null"], "format": "date-time"},
           gateway=_NULL_STR)
_SALE_ID = path_param("sale_id", INT)

SALES_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/sales": {
        "post": op("Sell: cash is paid at once; card is awaiting_payment with a checkout url",
                   "front_desk", {**ok(SALE, "201", "Created"), **errors(409, 422, 503)},
                   body=obj(["lines", "payment"], client_id=INT,
                            lines=array({"type": "object", "properties": {
                                "sku": STR, "package_code": STR,
                                "quantity": {"type": "integer", "minimum": 1}},
                                "required": ["quantity"]}),
                            discount_code=STR, payment={"enum": ["card", "cash"]},
                            cash_tendered_cents=CENTS),
                   idempotent=True),
    },
    "/api/v1/sales/{sale_id}": {
        "get": op("A sale (the desk polls it while the client pays)", "front_desk",
                  {**ok(SALE), **errors(404)}, params=[_SALE_ID]),
    },
    "/api/v1/sales/{sale_id}/refunds": {
        "post": op("Refund lines of a paid sale (card sales through the gateway)", "manager",
                   {**ok(obj(["refund_id", "amount_cents"], refund_id=INT, amount_cents=INT,
                             tax_cents=INT, status=STR, receipt_number=_NULL_INT),
                         "201", "Created"), **errors(404, 409, 422, 503)},
                   body=obj(["lines", "restock", "reason"],
                            lines=array(obj(["line_id", "quantity"], line_id=INT,
                                            quantity={"type": "integer", "minimum": 1})),
                            restock=BOOL, reason=STR),
                   params=[_SALE_ID], idempotent=True),
    },
    "/api/v1/sales/{sale_id}/void": {
        "post": op("Void an unpaid sale: its held stock is released", "manager",
                   {**ok(SALE), **errors(404, 409)}, params=[_SALE_ID]),
    },
}
PATH_GROUPS.append(SALES_PATHS)

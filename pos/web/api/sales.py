"""Sales, refunds and voids (API.md "Sales and payment")."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request

from pos.domain.errors import NotFound
from pos.domain.gift_cards import grouped
from pos.domain.limits import MAX_ID
from pos.domain.statuses import (
    PaymentMethod,
    PaymentStatus,
    SalePaymentMethod,
    SaleRefundStatus,
    SaleStatus,
)
from pos.extensions import db
from pos.models import Sale
from pos.models.sales import GIFT_CARD_CATEGORY
from pos.services import discounts, refunds, sales, voids
from pos.services.sales import cancelling, listing, receipt, tenders
from pos.services.sales.listing import Cashier, SaleFacts
from pos.web import current_clinic, current_settings
from pos.web.api import api_bp, api_user, idempotent, page_json, requires
from pos.web.api.locations import LOCATION_PARAMS, api_location_id
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
from pos.web.api.schemas.discounts import ApprovalIn, ManualDiscountIn
from pos.web.api.schemas.parsing import parse_json
from pos.web.api.schemas.sales import RefundIn, SaleIn, TenderIn, VoidIn
from pos.web.api.schemas.transactions import SalesQuery


def _known_id(sale_id: int) -> int:
    """An id too large for the column is simply not found (never a database error)."""
    if sale_id > MAX_ID:
        raise NotFound(f"There is no sale {sale_id}.", {"sale_id": sale_id})
    return sale_id


def gift_card_code(line: Any) -> str | None:
    """Shown once the card is issued (the sale paid): before, it is worth nothing."""
    card = line.gift_card
    return grouped(card.code) if card is not None and line.sale.paid_at is not None else None


def sale_json(sale: Sale | Any, facts: SaleFacts) -> dict[str, Any]:
    """A sale as the API shows it; `facts` (listing.sale_facts) adds what its row lacks."""
    body: dict[str, Any] = {
        "id": sale.id, "status": sale.status, "client_id": sale.client_id,
        "refund_status": facts.refund_status.value,
        "cashier": ({"id": facts.cashier.id, "name": facts.cashier.name}
                    if facts.cashier is not None else None),
        "payment_method": sale.payment_method,
        "subtotal_cents": sale.subtotal_cents, "discount_cents": sale.discount_cents,
        "tax_cents": sale.tax_cents, "total_cents": sale.total_cents,
        "discount_code": sale.discount_code.code if sale.discount_code else None,
        "manual_discount": ({"amount_cents": sale.manual_discount_cents,
                             "reason": sale.manual_discount_reason,
                             "approved_by": sale.manual_discount_approved_by_id}
                            if getattr(sale, "manual_discount_cents", 0) else None),
        "receipt_number": sale.receipt_number,
        "created_at": sale.created_at.isoformat() if sale.created_at else None,
        "paid_at": sale.paid_at.isoformat() if sale.paid_at else None,
        "card_last4": sale.card_last4,
        "cash_tendered_cents": sale.cash_tendered_cents,
        "change_cents": (sale.cash_tendered_cents - sale.total_cents
                         if sale.cash_tendered_cents is not None else None),
        "flag": sale.flag,
        "payments": [tender_json(tender) for tender in sale.payments],
        "balance_cents": sale.balance_cents,
        "lines": [
            {"id": line.id,
             **({"sku": line.item.sku} if line.item is not None else
                {"package_code": line.package.code if line.package else None}),
             "name": line.name, "category": line.category, "quantity": line.quantity,
             "unit_price_cents": line.unit_price_cents, "subtotal_cents": line.subtotal_cents,
             "discount_cents": line.discount_cents, "tax_cents": line.tax_cents,
             "total_cents": line.total_cents, "refunded_quantity": line.refunded_quantity,
             # The whole code, on the sale that sold it only (masked everywhere else).
             **({"gift_card_code": gift_card_code(line)}
                if line.category == GIFT_CARD_CATEGORY else {})}
            for line in sale.lines
        ],
    }
    if isinstance(sale, Sale) and sale.card_payment is not None:
        body["checkout_session_id"] = sale.checkout_session_id
        body["checkout_url"] = (sale.checkout_url
                                if sale.status == SaleStatus.AWAITING_PAYMENT else None)
        body["expires_at"] = sale.expires_at.isoformat() if sale.expires_at else None
        body["gateway"] = sale.gateway
    return body


def tender_json(tender: Any) -> dict[str, Any]:
    """One tender of a sale; a cash tender with its amount tendered shows its change."""
    tendered = tender.cash_tendered_cents
    return {"id": tender.id, "method": tender.method, "amount_cents": tender.amount_cents,
            "status": tender.status,
            **({"card_brand": tender.card_brand} if tender.card_brand else {}),
            **({"last4": tender.last4} if tender.last4 else {}),
            **({"reader_id": tender.reader_id, "last_error": tender.last_error}
               if tender.method == PaymentMethod.TERMINAL else {}),
            "tip_cents": tender.tip_cents,
            **({"tip_provider_id": tender.tip_provider_id} if tender.tip_provider_id else {}),
            **({"cash_tendered_cents": tendered,
                "change_cents": tendered - tender.amount_cents - tender.tip_cents}
               if tendered is not None else {})}


@api_bp.post("/v1/sales")
@requires("front_desk")
@idempotent
@validate_body(SaleIn)
def create_sale(body: SaleIn):  # type: ignore[no-untyped-def]
    # The cashier is who sells, read before the sale's commit expires the user (no lookup
    # after it: a cash sale's statement budget); nothing of a new sale is refunded.
    seller = api_user()
    facts = SaleFacts(SaleRefundStatus.NONE, 0, Cashier(seller.id, seller.name))
    manual = manual_discount(seller, body.manual_discount, body.approval)
    if body.payments is not None:
        split = tenders.sell_tenders(
            client_id=body.client_id, lines=body.cart(), discount_code=body.discount_code,
            tenders=[tender.tender() for tender in body.payments], user_id=seller.id,
            settings=current_settings(), base_url=request.url_root, manual_discount=manual,
            location_id=api_location_id())
        return jsonify(sale_json(split, facts)), 201
    assert body.payment is not None
    sale = sales.sell(client_id=body.client_id, lines=body.cart(),
                      discount_code=body.discount_code, payment=body.payment,
                      user_id=seller.id, cash_tendered_cents=body.cash_tendered_cents
                      if body.payment == "cash" else None,
                      settings=current_settings(), base_url=request.url_root,
                      manual_discount=manual, reader_id=body.reader_id,
                      location_id=api_location_id())
    return jsonify(sale_json(sale, facts)), 201


def manual_discount(seller: Any, wanted: ManualDiscountIn | None,
                    approval: ApprovalIn | None) -> sales.ManualDiscount | None:
    """The manual discount asked for, with the manager who approves it (the seller, or
    `approval`); 403 `approval_required` without one. Shared with the desk's sale."""
    if wanted is None:
        return None
    approved_by = discounts.approver(
        seller, approval.email if approval else None, approval.pin if approval else None,
        request.remote_addr or "?", current_settings())
    return wanted.manual(approved_by)


def _sale_response(sale: Sale):  # type: ignore[no-untyped-def]
    return jsonify(sale_json(sale, listing.sale_facts(db.session(), sale)))


@api_bp.post("/v1/sales/<int:sale_id>/payments")
@requires("front_desk")
@idempotent
@validate_body(TenderIn)
def add_payment(sale_id: int, body: TenderIn):  # type: ignore[no-untyped-def]
    sale = tenders.add_tender(_known_id(sale_id), body.tender(), user_id=api_user().id,
                              settings=current_settings(), base_url=request.url_root)
    return jsonify(sale_json(sale, listing.sale_facts(db.session(), sale))), 201


@api_bp.get("/v1/sales")
@requires("front_desk")
@validate_query(SalesQuery)
def list_sales(query: SalesQuery):  # type: ignore[no-untyped-def]
    found = listing.list_sales(db.session(), query.filters(), page=query.page,
                               per_page=query.per_page, zone=current_clinic().zone)
    return page_json([sale_json(sale, found.facts[sale.id]) for sale in found.sales],
                     found.page, found.per_page, found.total)


@api_bp.get("/v1/sales/<int:sale_id>")
@requires("front_desk")
def get_sale(sale_id: int):  # type: ignore[no-untyped-def]
    return _sale_response(sales.get_sale(db.session, _known_id(sale_id)))


@api_bp.post("/v1/sales/<int:sale_id>/cancel")
@requires("front_desk")
def cancel_sale(sale_id: int):  # type: ignore[no-untyped-def]
    return _sale_response(cancelling.cancel_sale(_known_id(sale_id), api_user().id))


@api_bp.post("/v1/sales/<int:sale_id>/receipt-email")
@requires("front_desk")
def email_receipt(sale_id: int):  # type: ignore[no-untyped-def]
    sent_to = receipt.email_receipt(_known_id(sale_id), api_user().id,
                                    current_settings().currency)
    return jsonify({"sale_id": sale_id, "queued": True, "to": sent_to}), 202


@api_bp.post("/v1/sales/<int:sale_id>/refunds")
@requires("manager")
@idempotent
@validate_body(RefundIn)
def refund_sale(sale_id: int, body: RefundIn):  # type: ignore[no-untyped-def]
    refund = refunds.refund_sale(_known_id(sale_id), body.units(), sessions=body.sessions(),
                                 restock=body.restock, reason=body.reason,
                                 amount_cents=body.amount_cents,
                                 to_credit=body.refund_to == "credit", user_id=api_user().id)
    return jsonify({"refund_id": refund.id, "amount_cents": refund.amount_cents,
                    "tax_cents": refund.tax_cents, "status": refund.status,
                    "receipt_number": refund.receipt_number,
                    "refund_to": "credit" if refund.to_credit else "original"}), 201


@api_bp.post("/v1/sales/<int:sale_id>/void")
@requires("manager")
def void_sale(sale_id: int):  # type: ignore[no-untyped-def]
    # The body is optional (v1 sent none): a reason, kept with the refund of a paid sale.
    body = parse_json(VoidIn) if request.get_data(cache=True) else VoidIn()
    return _sale_response(voids.void_sale(_known_id(sale_id), api_user().id, body.reason))


_LINE = obj(["id", "name", "quantity", "unit_price_cents", "subtotal_cents", "discount_cents",
             "tax_cents", "total_cents"],
            id=INT, sku=STR, package_code=STR, name=STR, category=STR, quantity=INT,
            unit_price_cents=INT, subtotal_cents=INT, discount_cents=INT, tax_cents=INT,
            total_cents=INT, refunded_quantity=INT, gift_card_code={"type": ["string", "null"]})
_NULL_STR = {"type": ["string", "null"]}
_NULL_INT = {"type": ["integer", "null"]}
_PAYMENT = obj(["id", "method", "amount_cents", "status", "tip_cents"],
               id=INT, method={"enum": [m.value for m in PaymentMethod]}, amount_cents=INT,
               status={"enum": [s.value for s in PaymentStatus]}, card_brand=STR, last4=STR,
               reader_id=INT, last_error=_NULL_STR,
               tip_cents=INT, tip_provider_id=INT, cash_tendered_cents=INT, change_cents=INT)
SALE = obj(["id", "status", "refund_status", "cashier", "subtotal_cents", "discount_cents",
            "tax_cents", "total_cents", "lines", "receipt_number", "client_id", "payment_method",
            "paid_at", "payments"],
           id=INT, status={"enum": [s.value for s in SaleStatus]},
           refund_status={"enum": [s.value for s in SaleRefundStatus]},
           cashier={"oneOf": [{"type": "null"}, obj(["id", "name"], id=INT, name=STR)]},
           client_id=_NULL_INT,
           payment_method={"enum": [m.value for m in SalePaymentMethod]}, balance_cents=INT,
           subtotal_cents=INT, discount_cents=INT, tax_cents=INT, total_cents=INT,
           discount_code=_NULL_STR, receipt_number=_NULL_INT,
           manual_discount={"oneOf": [{"type": "null"}, obj(
               ["amount_cents", "reason", "approved_by"], amount_cents=INT, reason=STR,
               approved_by=_NULL_INT)]},
           created_at={"type": ["string", "null"], "format": "date-time"},
           paid_at={"type": ["string", "null"], "format": "date-time"},
           card_last4=_NULL_STR, cash_tendered_cents=_NULL_INT, change_cents=_NULL_INT,
           flag=_NULL_STR, payments=array(_PAYMENT), lines=array(_LINE),
           checkout_url=_NULL_STR,
           checkout_session_id=_NULL_STR,
           expires_at={"type": ["string", "null"], "format": "date-time"},
           gateway=_NULL_STR)
_SALE_ID = path_param("sale_id", ID)

SALES_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/sales": {
        "get": op("The transactions list, newest first; q: a receipt number or a client's name",
                  "front_desk", {**ok(obj(["items", "page", "per_page", "total"],
                                          items=array(SALE), page=INT, per_page=INT,
                                          total=INT)), **errors(422)},
                  params=query_params(SalesQuery)),
        "post": op("Sell: cash is paid at once; card is awaiting_payment with a checkout "
                   "url; terminal (reader_id) is awaiting_payment, handed to the reader "
                   "(its tender's last_error says if the reader was busy or offline); "
                   "`payments`: several tenders adding up to the total",
                   "front_desk", {**ok(SALE, "201", "Created"),
                                  **errors(404, 409, 422, 429, 503)},
                   body=SaleIn, idempotent=True, params=LOCATION_PARAMS),
    },
    "/api/v1/sales/{sale_id}/payments": {
        "post": op("Another tender for a sale awaiting payment (at most its balance); the sale "
                   "is paid when the balance is taken. A terminal tender (reader_id) is "
                   "handed to its reader, its tip charged with it; a reader tender that was "
                   "declined is cancelled first; account_credit spends the sale's client's "
                   "credit (422 client_required, credit_too_low); gift_card (code) redeems "
                   "the card at once (422 unknown_gift_card, gift_card_balance_too_low, "
                   "gift_card_pays_gift_card for a sale of a gift card)", "front_desk",
                   {**ok(SALE, "201", "Created"), **errors(404, 409, 422, 429, 503)},
                   body=TenderIn, params=[_SALE_ID], idempotent=True),
    },
    "/api/v1/sales/{sale_id}": {
        "get": op("A sale (the desk polls it while the client pays)", "front_desk",
                  {**ok(SALE), **errors(404)}, params=[_SALE_ID]),
    },
    "/api/v1/sales/{sale_id}/refunds": {
        "post": op("Refund lines of a paid sale, or unused sessions of a series (card "
                   "sales through the gateway, or to the client's account credit)", "manager",
                   {**ok(obj(["refund_id", "amount_cents"], refund_id=INT, amount_cents=INT,
                             tax_cents=INT, status=STR, receipt_number=_NULL_INT,
                             refund_to={"enum": ["original", "credit"]}),
                         "201", "Created"), **errors(404, 409, 422, 503)},
                   body=RefundIn, params=[_SALE_ID], idempotent=True),
    },
    "/api/v1/sales/{sale_id}/cancel": {
        "post": op("Cancel an awaiting_payment sale: its checkout expired, its hold released",
                   "front_desk", {**ok(SALE), **errors(404, 409)}, params=[_SALE_ID]),
    },
    "/api/v1/sales/{sale_id}/receipt-email": {
        "post": op("Email the receipt again, to the client's own address only", "front_desk",
                   {**ok(obj(["sale_id", "queued", "to"], sale_id=INT, queued=BOOL, to=STR),
                         "202", "Queued"), **errors(404, 409, 422)}, params=[_SALE_ID]),
    },
    "/api/v1/sales/{sale_id}/void": {
        "post": op("Void a sale: unpaid, its held stock is released; paid today, reversed "
                   "(money back, units back on the shelf, unused packages ended, out of the "
                   "report)", "manager", {**ok(SALE), **errors(404, 409, 422, 503)},
                   body=VoidIn, body_required=False, params=[_SALE_ID]),
    },
}
PATH_GROUPS.append(SALES_PATHS)

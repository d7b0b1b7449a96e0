"""The front desk's pages, and the small JSON endpoints its script calls.

The JSON endpoints under /desk/ use the signed-in session and Flask-WTF's CSRF check (the
script sends the page's token in the X-CSRFToken header); they answer errors as JSON in
the API's shape, so the checkout can show them beside the cart.
"""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from pos.domain.errors import PosError, ValidationFailed
from pos.domain.limits import MAX_ID
from pos.domain.money import format_cents, parse_cents
from pos.extensions import db
from pos.models import Client, Item, Package, Sale
from pos.services import carts, clients, sales
from pos.services.sales import tenders
from pos.services.stock import list_items
from pos.web import current_settings
from pos.web.access import role_required
from pos.web.api.sales import manual_discount
from pos.web.api.schemas import parse_json, parse_query
from pos.web.api.schemas.clients import NewClientIn
from pos.web.api.schemas.queries import ClientsQuery
from pos.web.api.schemas.sales import DeskCartIn
from pos.web.desk.desk_key import desk_key
from pos.web.desk.forms import NewClientForm
from pos.web.workplace import current_location_id

desk_bp = Blueprint("desk", __name__)

SELLABLE_KINDS = ("retail", "bundle")
STATUS_LABELS = {"awaiting_payment": "Awaiting payment", "paid": "Paid", "expired": "Expired",
                 "failed": "Payment failed", "void": "Void",
                 "cancelled": "Cancelled"}


def _money(cents: int) -> str:
    return format_cents(cents, current_app.config["CURRENCY"])


def _json_error(error: PosError):  # type: ignore[no-untyped-def]
    db.session.rollback()
    return jsonify({"error": {"code": error.code, "message": error.message,
                              "details": error.details}}), error.status


def _sale_or_404(sale_id: int) -> Sale:
    sale = db.session.get(Sale, sale_id) if 0 < sale_id <= MAX_ID else None
    if sale is None:
        abort(404, f"There is no sale {sale_id}.")
    return sale


# -- clients -------------------------------------------------------------------------------

@desk_bp.route("/clients", methods=["GET", "POST"])
@role_required("front_desk")
def clients_page():  # type: ignore[no-untyped-def]
    q = (request.args.get("q") or "")[:100]
    form = NewClientForm()
    status = 200
    duplicate_id = None
    possible = None
    if form.validate_on_submit():
        try:
            client = clients.create_client(
                first_name=form.first_name.data or "", last_name=form.last_name.data or "",
                email=form.email.data, phone=form.phone.data, user_id=current_user.id,
                confirm_new=bool(form.create_anyway.data))
        except clients.PossibleDuplicate as error:
            # Warned before saving: use the existing client, or create anyway.
            db.session.rollback()
            possible = error.details
            status = error.status
        except clients.DuplicateClient as error:
            db.session.rollback()
            duplicate_id = error.details.get("client_id")
            form.email.errors = [*form.email.errors, error.message]
            status = error.status
        except PosError as error:
            db.session.rollback()
            fields = error.details.get("fields") or {}
            for name, problem in fields.items():
                field = getattr(form, name, None)
                if field is not None:
                    field.errors = [*field.errors, f"{field.label.text} {problem}."]
            if not fields:
                form.first_name.errors = [*form.first_name.errors, error.message]
            status = error.status
        else:
            flash(f"Client {client.full_name} created.")
            return redirect(url_for("desk.client_page", client_id=client.id))
    elif form.is_submitted():
        status = 422
    found = clients.search_clients(db.session, q)
    return render_template("desk/clients.html", form=form, q=q, found=found,
                           duplicate_id=duplicate_id, possible=possible), status


@desk_bp.get("/desk/clients.json")
@role_required("front_desk")
def clients_json():  # type: ignore[no-untyped-def]
    try:
        query = parse_query(ClientsQuery)
    except PosError as error:
        return _json_error(error)
    found = clients.search_clients(db.session, query.q or "", limit=15)
    return jsonify([_client_brief(c) for c in found])


def _client_brief(client: Client) -> dict[str, Any]:
    return {"id": client.id, "name": client.full_name, "email": client.email,
            "phone": client.phone, "url": url_for("desk.client_page", client_id=client.id)}


@desk_bp.post("/desk/clients")
@role_required("front_desk")
def create_client_json():  # type: ignore[no-untyped-def]
    """Create a client from the checkout without leaving it."""
    try:
        new = parse_json(NewClientIn)
        client = clients.create_client(
            first_name=new.first_name, last_name=new.last_name, email=new.email,
            phone=new.phone, date_of_birth=new.date_of_birth, notes=new.notes,
            allergies=new.allergies, confirm_new=new.confirm_new, user_id=current_user.id,
            user=current_user)
    except PosError as error:
        return _json_error(error)
    return jsonify(_client_brief(client)), 201


# The client's own page, edit and merge: pos/web/desk/client_routes.py.


# -- checkout ------------------------------------------------------------------------------

# The page itself and its saved cart: pos/web/desk/cart_routes.py.

@desk_bp.get("/desk/catalog.json")
@role_required("front_desk")
def catalog_json():  # type: ignore[no-untyped-def]
    """What the desk sells: retail items and bundles with their stock, and the packages."""
    products: list[dict[str, Any]] = []
    for kind in SELLABLE_KINDS:
        for row in list_items(db.session, kind=kind):
            item: Item = row.item
            products.append({"key": f"sku:{item.sku}", "sku": item.sku, "barcode": item.barcode,
                             "name": item.name, "kind": item.kind,
                             "price": _money(item.price_cents), "available": row.available})
    for package in db.session.scalars(select(Package).where(Package.active.is_(True))
                                      .order_by(Package.name)):
        products.append({"key": f"package:{package.code}", "package_code": package.code,
                         "name": package.name, "kind": "package",
                         "sessions": package.sessions, "price": _money(package.price_cents)})
    return jsonify(products)


def _cash_tendered(cart: DeskCartIn) -> int | None:
    """The cash tendered, typed in dollars at the desk, in cents."""
    if cart.cash_tendered is None:
        return None
    try:
        return parse_cents(cart.cash_tendered)
    except PosError as error:
        raise ValidationFailed(error.message,
                               {"fields": {"cash_tendered": "is not an amount"}}) from None


def _quote_key(line: Any, index: int, lines: Any) -> str:
    """The cart line a quoted line prices: `sku:X`, `package:Y`, or `gift:N` (the Nth gift
    card line: they are never merged and come last, in the cart's order)."""
    if line.sku:
        return f"sku:{line.sku}"
    if line.package_code:
        return f"package:{line.package_code}"
    return f"gift:{sum(1 for q in lines[:index + 1] if not q.sku and not q.package_code)}"


@desk_bp.post("/desk/quote")
@role_required("front_desk")
def quote():  # type: ignore[no-untyped-def]
    """Live totals of the cart: subtotal, discount, tax, total (and change due for cash)."""
    try:
        cart = parse_json(DeskCartIn)
        # A manual discount is priced as asked; its approval is checked when it is sold.
        manual = cart.manual_discount.manual(None) if cart.manual_discount else None
        priced = sales.quote_cart(db.session, cart.cart(), cart.discount_code, manual)
        tendered = _cash_tendered(cart)
    except PosError as error:
        return _json_error(error)
    body: dict[str, Any] = {
        "lines": [{"key": _quote_key(q, index, priced.lines), "name": q.name,
                   "quantity": q.quantity,
                   "unit_price": _money(q.unit_price_cents),
                   "subtotal_cents": q.subtotal_cents, "subtotal": _money(q.subtotal_cents),
                   "discount_cents": q.discount_cents, "tax_cents": q.tax_cents,
                   "total_cents": q.total_cents}
                  for index, q in enumerate(priced.lines)],
        "subtotal_cents": priced.subtotal_cents, "discount_cents": priced.discount_cents,
        "tax_cents": priced.tax_cents, "total_cents": priced.total_cents,
        "subtotal": _money(priced.subtotal_cents), "discount": _money(priced.discount_cents),
        "tax": _money(priced.tax_cents), "total": _money(priced.total_cents),
        "discount_code": priced.discount_code,
        "manual_discount_cents": priced.manual_discount_cents,
        "manual_discount": _money(priced.manual_discount_cents),
        "cash_tendered_cents": tendered, "change_cents": None, "change": None,
    }
    if tendered is not None:
        change = tendered - priced.total_cents
        body["change_cents"] = change
        body["change"] = _money(change) if change >= 0 else None
    return jsonify(body)


@desk_bp.post("/desk/sales")
@role_required("front_desk")
def create_sale():  # type: ignore[no-untyped-def]
    """Sell the cart: cash is paid at once; card, the card reader and a split wait for
    their payments."""
    try:
        cart = parse_json(DeskCartIn)
        if cart.payment is None:
            raise ValidationFailed(
                "Choose how the client pays: cash, card, the card reader or split.",
                {"fields": {"payment": "must be cash, card, terminal or split"}})
        tendered = _cash_tendered(cart) if cart.payment == "cash" else None
        manual = manual_discount(current_user, cart.manual_discount, cart.approval)
        if cart.payment == "split":  # tenders are added on the sale's page
            opened = tenders.open_split_sale(
                client_id=cart.client_id, lines=cart.cart(), discount_code=cart.discount_code,
                user_id=current_user.id, manual_discount=manual,
                location_id=current_location_id())
            carts.clear_desk_cart(desk_key())
            return jsonify({"id": opened.id, "status": opened.status,
                            "url": url_for("desk.sale_page", sale_id=opened.id)}), 201
        sale = sales.sell(client_id=cart.client_id, lines=cart.cart(),
                          discount_code=cart.discount_code, payment=cart.payment,
                          user_id=current_user.id, cash_tendered_cents=tendered,
                          settings=current_settings(), base_url=request.url_root,
                          manual_discount=manual, reader_id=cart.reader_id,
                          location_id=current_location_id())
    except PosError as error:
        return _json_error(error)
    carts.clear_desk_cart(desk_key())  # sold: the desk starts a new cart
    return jsonify({"id": sale.id, "status": sale.status,
                    "url": url_for("desk.sale_page", sale_id=sale.id)}), 201



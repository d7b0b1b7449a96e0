"""The checkout page and the cart it keeps on the server; parked sales.

A desk is the browser: a long-lived random `desk_cart` cookie names it (HttpOnly, so
only the server reads it). The checkout page starts from the desk's saved cart; the
script saves the cart after each change (PUT /desk/cart); parking moves it to the parked
list, which any desk can resume from (GET /desk/parked).
"""
from __future__ import annotations

import re
from typing import Any

from flask import flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select

from pos.domain.errors import PosError
from pos.domain.limits import MAX_ID
from pos.extensions import db
from pos.models import Client, DeskCart
from pos.payments.factory import current_gateway
from pos.services import carts, terminal_readers
from pos.services.sales import CartLine
from pos.web.access import role_required
from pos.web.api.schemas import parse_json
from pos.web.api.schemas.carts import DeskCartStateIn, ParkedSaleIn
from pos.web.api.schemas.sales import CartLineIn
from pos.web.desk.desk_key import desk_key, set_desk_cookie
from pos.web.desk.routes import _json_error, desk_bp

_STORED_LINES = TypeAdapter(list[CartLineIn])

desk_bp.after_request(set_desk_cookie)


def stored_lines(row: DeskCart) -> list[CartLine]:
    """The row's lines read back through the API's own line model."""
    try:
        return [line.cart_line() for line in _STORED_LINES.validate_python(row.lines or [])]
    except ValidationError:  # written by pos.services.carts only; never trust it blindly
        return []


def _lines_json(lines: list[CartLine], names: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    gifts = 0
    for line in lines:
        if line.gift_card_cents is not None:  # never merged: keyed by its place among them
            gifts += 1
            out.append({"key": f"gift:{gifts}", "gift_card": {
                "amount_cents": line.gift_card_cents, "recipient_email": line.recipient_email},
                "name": "Gift card", "quantity": 1})
            continue
        key = f"sku:{line.sku}" if line.sku else f"package:{line.package_code}"
        out.append({"key": key, "sku": line.sku, "package_code": line.package_code,
                    "name": names.get(key, line.sku or line.package_code),
                    "quantity": line.quantity})
    return out


def _client_json(client: Client | None) -> dict[str, Any] | None:
    return {"id": client.id, "name": client.full_name} if client is not None else None


def _parked_count() -> int:
    return db.session.scalar(select(func.count()).select_from(DeskCart)
                             .where(DeskCart.parked.is_(True))) or 0


# -- the checkout page and its saved cart --------------------------------------------------

@desk_bp.get("/checkout")
@role_required("front_desk")
def checkout():  # type: ignore[no-untyped-def]
    row = carts.desk_cart(db.session, desk_key())
    lines = stored_lines(row) if row is not None else []
    client = row.client if row is not None else None
    # "Sell to this client" from a client's page chooses the client, keeping the lines.
    from_link = False
    client_id = request.args.get("client_id", "")
    if re.fullmatch(r"[0-9]{1,10}", client_id) and 0 < int(client_id) <= MAX_ID:
        linked = db.session.get(Client, int(client_id))
        if linked is not None and linked is not client:
            client, from_link = linked, True
    state = {"client": _client_json(client),
             "lines": _lines_json(lines, carts.line_names(db.session, lines)),
             "discount_code": row.discount_code if row is not None else None,
             "save": from_link}
    response = make_response(render_template("desk/checkout.html", client=client, state=state,
                                             parked_count=_parked_count(),
                                             readers=terminal_readers.list_readers(
                                                 current_gateway().name)))
    # Never from the back-forward cache: a page kept from before a sale would show its cart.
    response.headers["Cache-Control"] = "no-store"
    return response


@desk_bp.put("/desk/cart")
@role_required("front_desk")
def save_cart():  # type: ignore[no-untyped-def]
    try:
        state = parse_json(DeskCartStateIn)
        carts.save_desk_cart(desk_key(), state.contents(), user_id=current_user.id)
    except PosError as error:
        return _json_error(error)
    return jsonify({"saved": True})


@desk_bp.post("/desk/cart/park")
@role_required("front_desk")
def park_cart():  # type: ignore[no-untyped-def]
    """Park what the checkout shows (the page sends it, so an unsaved edit is kept)."""
    try:
        body = parse_json(ParkedSaleIn)
        parked = carts.park(body.contents(), label=body.label, user_id=current_user.id,
                            desk_key=desk_key())
    except PosError as error:
        return _json_error(error)
    return jsonify({"id": parked.id, "label": parked.label,
                    "parked_url": url_for("desk.parked_page")}), 201


# -- parked sales ----------------------------------------------------------------------------

class ParkedActionForm(FlaskForm):
    """Resume and discard buttons: nothing to fill in but the CSRF token."""


def _parked_rows() -> list[dict[str, Any]]:
    rows, _total = carts.parked_sales(db.session, per_page=200)
    out = []
    for row in rows:
        lines = stored_lines(row)
        names = carts.line_names(db.session, lines)
        out.append({"row": row, "lines": _lines_json(lines, names)})
    return out


def _render_parked(status: int = 200, error: str | None = None):  # type: ignore[no-untyped-def]
    return render_template("desk/parked.html", parked=_parked_rows(), form=ParkedActionForm(),
                           error=error), status


@desk_bp.get("/desk/parked")
@role_required("front_desk")
def parked_page():  # type: ignore[no-untyped-def]
    return _render_parked()


@desk_bp.post("/desk/parked/<int:parked_id>/resume")
@role_required("front_desk")
def resume_parked(parked_id: int):  # type: ignore[no-untyped-def]
    if not ParkedActionForm().validate_on_submit():
        return _render_parked(400, "The form expired: try again.")
    try:
        carts.resume(parked_id, user_id=current_user.id, desk_key=desk_key())
    except PosError as error:
        db.session.rollback()
        return _render_parked(error.status, error.message)
    return redirect(url_for("desk.checkout"))


@desk_bp.post("/desk/parked/<int:parked_id>/discard")
@role_required("front_desk")
def discard_parked(parked_id: int):  # type: ignore[no-untyped-def]
    if not ParkedActionForm().validate_on_submit():
        return _render_parked(400, "The form expired: try again.")
    try:
        carts.discard(parked_id)
    except PosError as error:
        db.session.rollback()
        return _render_parked(error.status, error.message)
    flash("Parked sale discarded.")
    return redirect(url_for("desk.parked_page"))

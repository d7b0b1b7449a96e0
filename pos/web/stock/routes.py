"""The stock desk: overview, item page, receiving and adjusting."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.fields import SelectChoice

from pos.domain.errors import PosError
from pos.extensions import db
from pos.models import Location
from pos.models.catalog import ITEM_KINDS
from pos.services import catalog, locations, stock
from pos.web.access import role_required
from pos.web.stock.forms import AdjustForm, ReceiveForm
from pos.web.workplace import current_location

stock_bp = Blueprint("stock", __name__, url_prefix="/stock")


@stock_bp.get("/")
@role_required("front_desk")
def overview():  # type: ignore[no-untyped-def]
    q = (request.args.get("q") or "").strip()[:100]
    kind = request.args.get("kind") if request.args.get("kind") in ITEM_KINDS else None
    here = current_location(asked=True)
    rows = stock.list_items(db.session, q=q or None, kind=kind, location_id=here.id)
    return render_template("stock/overview.html", rows=rows, q=q, kind=kind, kinds=ITEM_KINDS,
                           **_places(here))


def _places(here: Location) -> dict[str, object]:
    """The location the stock page shows and, when there are several, the others."""
    several = locations.several(db.session)
    return {"here": here, "places": locations.list_locations(db.session) if several else []}


@stock_bp.get("/items/<sku>")
@role_required("front_desk")
def item(sku: str):  # type: ignore[no-untyped-def]
    here = current_location(asked=True)
    row = stock.item_row(db.session, sku, here.id)
    lots = stock.item_lots(db.session, row.item, here.id)
    manager = current_user.has_role("manager")
    movements = stock.item_movements(db.session, row.item, location_id=here.id) \
        if manager else []
    history = catalog.price_history(db.session, row.item) if manager else []
    contents = catalog.bundle_contents(db.session, row.item) \
        if row.item.kind == "bundle" else []
    return render_template("stock/item.html", row=row, lots=lots, movements=movements,
                           history=history, contents=contents, **_places(here))


@stock_bp.route("/items/<sku>/receive", methods=["GET", "POST"])
@role_required("manager")
def receive(sku: str):  # type: ignore[no-untyped-def]
    here = current_location()
    row = stock.item_row(db.session, sku, here.id)
    form = ReceiveForm()
    status = 200
    if form.validate_on_submit():
        try:
            result = stock.receive_stock(
                sku=sku, quantity=form.quantity.data or 0, lot_code=form.lot.data or None,
                expires_on=form.expires_on.data, unit_cost_cents=form.unit_cost.cents,
                user_id=current_user.id, location_id=here.id)
        except PosError as error:
            field = _field_for(form, error, default=form.quantity)
            field.errors = [*field.errors, error.message]
            status = error.status
        else:
            flash(f"Received {form.quantity.data} × {row.item.name}. "
                  f"On hand now {result.on_hand}.")
            return redirect(url_for("stock.item", sku=sku))
    elif form.is_submitted():
        status = 422
    return render_template("stock/receive.html", row=row, form=form), status


def _field_for(form: FlaskForm, error: PosError, *, default: Field) -> Field:
    """The form field a service's error is about, to show the message next to it."""
    if error.code == "lot_expired":
        return form.expires_on
    for name in (error.details.get("fields") or {}):
        if name in form._fields:
            return form[name]
    return default


@stock_bp.route("/items/<sku>/adjust", methods=["GET", "POST"])
@role_required("manager")
def adjust(sku: str):  # type: ignore[no-untyped-def]
    here = current_location()
    row = stock.item_row(db.session, sku, here.id)
    lots = stock.item_lots(db.session, row.item, here.id)
    form = AdjustForm()
    form.lot.choices = [SelectChoice(r.lot.code, f"{r.lot.code} ({r.on_hand} on hand)")
                        for r in lots] or [SelectChoice("", "No lot in stock")]
    status = 200
    if form.validate_on_submit():
        try:
            result = stock.adjust_stock(
                sku=sku, lot_code=form.lot.data, qty_delta=form.qty_delta.data or 0,
                reason=form.reason.data or "", note=form.note.data or None,
                user_id=current_user.id, location_id=here.id)
        except PosError as error:
            form.qty_delta.errors = [*form.qty_delta.errors, error.message]
            status = error.status
        else:
            flash(f"Adjusted {row.item.name} by {form.qty_delta.data}. "
                  f"On hand now {result.on_hand}.")
            return redirect(url_for("stock.item", sku=sku))
    elif form.is_submitted():
        status = 422
    return render_template("stock/adjust.html", row=row, form=form), status

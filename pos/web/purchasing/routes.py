"""The purchasing desk (managers): suppliers, purchase orders (draft from the reorder list,
edit, send, print, receive with lot and expiry, cancel), the count sheet and lot expiry
corrections. Each action has its API twin in pos/web/api/purchasing.py."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms.fields import SelectChoice

from pos.domain.errors import NotFound, PosError
from pos.domain.limits import MAX_ID
from pos.domain.money import dollars_text
from pos.domain.purchasing import PurchaseOrderStatus, still_due
from pos.extensions import db
from pos.models import Item, Lot, LotStock, PurchaseOrder
from pos.services import clock, counts, purchasing, stock, suppliers
from pos.web import current_settings
from pos.web.access import role_required
from pos.web.purchasing.forms import (
    ActionForm,
    EditOrderForm,
    LotExpiryForm,
    NewOrderForm,
    SupplierForm,
    count_form,
    order_lines_form,
    receive_form,
)
from pos.web.workplace import current_location, current_location_id

purchasing_bp = Blueprint("purchasing", __name__, url_prefix="/purchasing")


def _order(order_id: int) -> PurchaseOrder:
    try:
        return purchasing.get_order(db.session, order_id)
    except NotFound:
        abort(404, "No such purchase order.")


def _error_summary(form: FlaskForm) -> list[Any]:
    return [f for f in form if f.errors]


# -- suppliers -------------------------------------------------------------------------------

@purchasing_bp.route("/suppliers", methods=["GET", "POST"])
@role_required("manager")
def suppliers_page():  # type: ignore[no-untyped-def]
    form = SupplierForm()
    status, error = 200, None
    if form.validate_on_submit():
        try:
            supplier = suppliers.create_supplier(
                name=form.name.data or "", email=form.email.data or "",
                lead_time_days=form.lead_time_days.data or 0,
                minimum_order_cents=form.minimum_order.cents, user_id=current_user.id)
        except PosError as exc:
            db.session.rollback()
            form.name.errors = [*form.name.errors, exc.message]
            status = exc.status
        else:
            flash(f"Supplier {supplier.name} added. Choose it on each item's page.")
            return redirect(url_for("purchasing.suppliers_page"))
    elif form.is_submitted():
        status = 422
    return render_template("purchasing/suppliers.html", form=form, error=error,
                           bad=_error_summary(form),
                           rows=suppliers.list_suppliers(db.session)), status


@purchasing_bp.route("/suppliers/<int:supplier_id>/edit", methods=["GET", "POST"])
@role_required("manager")
def edit_supplier(supplier_id: int):  # type: ignore[no-untyped-def]
    """Correct a supplier: its lead time decides which items the expected treatments bring
    onto the reorder list early (PATCH /api/v1/suppliers/{id})."""
    if supplier_id > MAX_ID:
        abort(404, "No such supplier.")
    try:
        supplier = suppliers.get_supplier(db.session, supplier_id)
    except NotFound:
        abort(404, "No such supplier.")
    form = SupplierForm(obj=supplier)
    form.submit.label.text = "Save supplier"
    if request.method == "GET" and supplier.minimum_order_cents is not None:
        form.minimum_order.data = dollars_text(supplier.minimum_order_cents)
    status = 200
    if form.validate_on_submit():
        try:
            suppliers.update_supplier(supplier_id, {
                "name": form.name.data or "", "email": form.email.data or "",
                "lead_time_days": form.lead_time_days.data or 0,
                "minimum_order_cents": form.minimum_order.cents}, current_user.id)
        except PosError as exc:
            db.session.rollback()
            form.name.errors = [*form.name.errors, exc.message]
            status = exc.status
        else:
            flash(f"Supplier {form.name.data} saved.")
            return redirect(url_for("purchasing.suppliers_page"))
    elif form.is_submitted():
        status = 422
    return render_template("purchasing/supplier_edit.html", form=form, supplier=supplier,
                           bad=_error_summary(form)), status


# -- purchase orders -------------------------------------------------------------------------

@purchasing_bp.get("/orders")
@role_required("manager")
def orders():  # type: ignore[no-untyped-def]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows, total = purchasing.orders_page(db.session, page=page, per_page=50)
    return render_template("purchasing/orders.html", rows=rows, total=total, page=page,
                           new_form=_new_order_form(), action=ActionForm())


def _new_order_form() -> NewOrderForm:
    form = NewOrderForm()
    form.supplier.choices = [SelectChoice(s.id, s.name)
                             for s in suppliers.list_suppliers(db.session)]
    return form


@purchasing_bp.post("/orders/new")
@role_required("manager")
def new_order():  # type: ignore[no-untyped-def]
    """A draft with every active item of the supplier at its reorder quantity: edit next."""
    form = _new_order_form()
    if not form.validate_on_submit():
        flash("Choose a supplier (add one on the Suppliers page first).")
        return redirect(url_for("purchasing.orders"))
    items = db.session.scalars(select(Item).where(
        Item.supplier_id == form.supplier.data, Item.active.is_(True)).order_by(Item.name)).all()
    if not items:
        flash("No active item has that supplier yet: choose it on the items' pages first.")
        return redirect(url_for("purchasing.orders"))
    try:
        order = purchasing.create_order(form.supplier.data, [
            purchasing.OrderLineIn(i.sku, max(i.reorder_quantity, 1), i.cost_cents)
            for i in items], current_user.id)
    except PosError as exc:
        db.session.rollback()
        flash(exc.message)
        return redirect(url_for("purchasing.orders"))
    flash(f"Draft purchase order {order.id} created: set the quantities.")
    return redirect(url_for("purchasing.edit_order", order_id=order.id))


@purchasing_bp.post("/orders/from-reorder")
@role_required("manager")
def from_reorder():  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        flash("The form expired; try again.")
        return redirect(url_for("alerts.reorder"))
    drafted = purchasing.drafts_from_reorder(current_settings().reorder_cover_days,
                                             current_user.id)
    ids = ", ".join(str(o.id) for o in drafted.orders)
    message = f"Drafted {len(drafted.orders)} purchase order(s){f' ({ids})' if ids else ''}."
    if drafted.skipped:
        message += f" Left out, no supplier: {', '.join(drafted.skipped)}."
    flash(message)
    return redirect(url_for("purchasing.orders"))


@purchasing_bp.get("/orders/<int:order_id>")
@role_required("manager")
def order_page(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    return render_template("purchasing/order.html", order=order, action=ActionForm(),
                           total=sum(line.quantity * line.unit_cost_cents
                                     for line in order.lines))


@purchasing_bp.get("/orders/<int:order_id>/print")
@role_required("manager")
def print_order(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    subject, body = purchasing.order_text(db.session, order)
    return render_template("purchasing/print.html", order=order, subject=subject,
                           total=sum(line.quantity * line.unit_cost_cents
                                     for line in order.lines))


@purchasing_bp.route("/orders/<int:order_id>/edit", methods=["GET", "POST"])
@role_required("manager")
def edit_order(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    lines = list(order.lines)
    form_class = order_lines_form(EditOrderForm, [
        (line.item.sku, f"{line.item.name} ({line.item.sku})", line.quantity,
         dollars_text(line.unit_cost_cents)) for line in lines])
    form = form_class()
    status = 200
    if form.validate_on_submit():
        new_lines = [purchasing.OrderLineIn(line.item.sku, form[f"qty_{i}"].data,
                                            form[f"cost_{i}"].cents)
                     for i, line in enumerate(lines) if form[f"qty_{i}"].data]
        try:
            purchasing.replace_lines(order.id, new_lines, current_user.id)
        except PosError as exc:
            db.session.rollback()
            form.submit.errors = [exc.message]
            status = exc.status
        else:
            flash(f"Purchase order {order.id} saved.")
            return redirect(url_for("purchasing.order_page", order_id=order.id))
    elif form.is_submitted():
        status = 422
    return render_template("purchasing/edit.html", order=order, form=form,
                           count=len(lines), bad=_error_summary(form)), status


@purchasing_bp.post("/orders/<int:order_id>/send")
@role_required("manager")
def send_order(order_id: int):  # type: ignore[no-untyped-def]
    return _act(order_id, purchasing.send_order, "sent to the supplier (by email)")


@purchasing_bp.post("/orders/<int:order_id>/cancel")
@role_required("manager")
def cancel_order(order_id: int):  # type: ignore[no-untyped-def]
    return _act(order_id, purchasing.cancel_order, "cancelled")


def _act(order_id: int, action: Any, done: str):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    if ActionForm().validate_on_submit():
        try:
            action(order.id, current_user.id)
        except PosError as exc:
            db.session.rollback()
            flash(exc.message)
        else:
            flash(f"Purchase order {order.id} {done}.")
    return redirect(url_for("purchasing.order_page", order_id=order.id))


@purchasing_bp.route("/orders/<int:order_id>/receive", methods=["GET", "POST"])
@role_required("manager")
def receive_order(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    lines = list(order.lines)
    form = receive_form([(i, f"{line.item.name} ({line.item.sku})",
                          still_due(line.quantity, line.received))
                         for i, line in enumerate(lines)])()
    status, error = 200, None
    if form.validate_on_submit():
        receipt = [purchasing.ReceiptLineIn(line.item.sku, form[f"qty_{i}"].data,
                                            form[f"lot_{i}"].data or None,
                                            form[f"expires_{i}"].data)
                   for i, line in enumerate(lines) if form[f"qty_{i}"].data]
        if not receipt:
            form["qty_0"].errors = ["Enter what arrived."]
            status = 422
        else:
            try:
                purchasing.receive_order(order.id, receipt, current_user.id,
                                         current_location_id())
            except PosError as exc:
                db.session.rollback()
                index = next((i for i, line in enumerate(lines)
                              if line.item.sku == exc.details.get("sku")), None)
                if index is not None and exc.code == "lot_required":
                    target = form[f"lot_{index}"]
                elif index is not None and exc.code == "lot_expired":
                    target = form[f"expires_{index}"]
                elif index is not None:
                    target = form[f"qty_{index}"]
                else:
                    target = None
                if target is not None:
                    target.errors = [*target.errors, exc.message]
                else:
                    error = exc.message
                status = exc.status
            else:
                flash(f"Received on purchase order {order.id}.")
                return redirect(url_for("purchasing.order_page", order_id=order.id))
    elif form.is_submitted():
        status = 422
    return render_template("purchasing/receive.html", order=order, form=form, lines=lines,
                           error=error, bad=_error_summary(form)), status


# -- counts and lots -------------------------------------------------------------------------

def _count_rows() -> list[tuple[Item, Lot, int]]:
    """The lots on hand at the desk's location (the count sheet counts one location)."""
    location = current_location()
    return [(item, lot, int(qty)) for item, lot, qty in db.session.execute(
        select(Item, Lot, LotStock.on_hand).join(Lot, Lot.item_id == Item.id)
        .join(LotStock, LotStock.lot_id == Lot.id)
        .where(LotStock.location_id == location.id, LotStock.on_hand > 0)
        .order_by(func.lower(Item.name), Item.sku, Lot.code))]


@purchasing_bp.route("/counts", methods=["GET", "POST"])
@role_required("manager")
def count_sheet():  # type: ignore[no-untyped-def]
    rows = _count_rows()
    form = count_form([(i, f"{item.name} ({item.sku}) lot {lot.code}", qty)
                       for i, (item, lot, qty) in enumerate(rows)])()
    status = 200
    if form.validate_on_submit():
        try:
            done = counts.record_count(
                [counts.CountLine(item.sku, lot.code, form[f"counted_{i}"].data)
                 for i, (item, lot, _qty) in enumerate(rows)],
                form.note.data or None, current_user.id, location_id=current_location().id)
        except PosError as exc:
            db.session.rollback()
            form.note.errors = [*form.note.errors, exc.message]
            status = exc.status
        else:
            changed = [c for c in done if c.difference]
            flash(f"Count recorded: {len(changed)} lot(s) corrected.")
            return redirect(url_for("purchasing.count_sheet"))
    elif form.is_submitted():
        status = 422
    return render_template("purchasing/counts.html", rows=rows, form=form,
                           bad=_error_summary(form)), status


@purchasing_bp.route("/lots/<sku>/<lot>/expiry", methods=["GET", "POST"])
@role_required("manager")
def lot_expiry(sku: str, lot: str):  # type: ignore[no-untyped-def]
    row = stock.item_row(db.session, sku[:40])
    found = db.session.scalar(select(Lot).where(Lot.item_id == row.item.id,
                                                Lot.code == lot[:60]))
    if found is None:
        abort(404, "No such lot.")
    form = LotExpiryForm()
    status = 200
    if form.validate_on_submit():
        try:
            stock.correct_lot_expiry(sku=row.item.sku, lot_code=found.code,
                                     expires_on=form.expires_on.data, reason=form.reason.data,
                                     user_id=current_user.id, settings=current_settings())
        except PosError as exc:
            db.session.rollback()
            form.expires_on.errors = [*form.expires_on.errors, exc.message]
            status = exc.status
        else:
            flash(f"Lot {found.code} of {row.item.name} now expires "
                  f"{form.expires_on.data.isoformat()}.")
            return redirect(url_for("stock.item", sku=row.item.sku))
    elif form.is_submitted():
        status = 422
    return render_template("purchasing/lot_expiry.html", row=row, lot=found, form=form,
                           bad=_error_summary(form)), status


STATUS_LABELS = {s.value: s.value.replace("_", " ") for s in PurchaseOrderStatus}


@purchasing_bp.app_template_filter("po_status")
def po_status(value: str) -> str:
    return STATUS_LABELS.get(value, value)


@purchasing_bp.get("/counts/sheet")
@role_required("manager")
def count_sheet_print():  # type: ignore[no-untyped-def]
    return render_template("purchasing/count_sheet.html", rows=_count_rows(),
                           today=clock.today())

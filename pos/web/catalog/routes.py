"""The catalog back office (managers): items (new, changed, deactivated, barcode, price,
cost and reorder figures; a bundle's contents) and packages with their bill of materials.
Each action has its API twin in pos/web/api/catalog.py. An item's own page, with its
stock, lots, ledger and price history, is the stock desk's (/stock/items/<sku>)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms.fields import SelectChoice

from pos.domain.errors import NotFound, PosError
from pos.domain.money import dollars_text
from pos.extensions import db
from pos.models import Item, Package
from pos.models.catalog import ITEM_KINDS
from pos.services import catalog, stock, suppliers
from pos.web.access import role_required
from pos.web.catalog.forms import (
    ContentsForm,
    ItemEditForm,
    NewItemForm,
    NewPackageForm,
    PackageForm,
    add_quantities,
)

catalog_bp = Blueprint("catalog", __name__, url_prefix="/catalog")

ACTIVE_FILTERS = {"active": "Active", "inactive": "Inactive", "all": "All"}
# A form field's name for each API field a service's error may name.
FIELD_NAMES = {"price_cents": "price", "cost_cents": "cost"}


def _show_error(form: FlaskForm, error: PosError) -> str | None:
    """Put a service's error next to its field; what fits no field is returned."""
    names = list(error.details.get("fields") or {})
    if error.code == "barcode_taken":
        names = ["barcode"]
    elif error.code == "conflict" and "sku" in error.details:
        names = ["sku"]
    elif error.code == "conflict" and "package_code" in error.details:
        names = ["code"]
    for name in names:
        name = FIELD_NAMES.get(name, name)
        if name in form._fields:
            form[name].errors = [*form[name].errors, error.message]
            return None
    return error.message


def _item(sku: str) -> Item:
    item = db.session.scalar(select(Item).where(Item.sku == sku[:40]))
    if item is None:
        abort(404, "No such item.")
    return item


# -- items ---------------------------------------------------------------------------------

@catalog_bp.get("/")
@role_required("manager")
def items():  # type: ignore[no-untyped-def]
    q = (request.args.get("q") or "").strip()[:100]
    active = request.args.get("active") if request.args.get("active") in ACTIVE_FILTERS \
        else "active"
    kind = request.args.get("kind") if request.args.get("kind") in ITEM_KINDS else None
    rows = stock.list_items(db.session, q=q or None, kind=kind,
                            include_inactive=active == "all", only_inactive=active == "inactive")
    return render_template("catalog/items.html", rows=rows, q=q, active=active, kind=kind,
                           kinds=ITEM_KINDS, active_filters=ACTIVE_FILTERS)


@catalog_bp.route("/items/new", methods=["GET", "POST"])
@role_required("manager")
def new_item():  # type: ignore[no-untyped-def]
    form = NewItemForm()
    status, error_text = 200, None
    if form.validate_on_submit():
        try:
            item = catalog.create_item(catalog.NewItem(
                sku=form.sku.data or "", name=form.name.data or "", kind=form.kind.data or "",
                unit=form.unit.data or "", price_cents=form.price.cents or 0,
                cost_cents=form.cost.cents or 0, reorder_point=form.reorder_point.data or 0,
                reorder_quantity=form.reorder_quantity.data or 0,
                taxable=bool(form.taxable.data), barcode=form.barcode.data or None,
                active=bool(form.active.data)), current_user.id)
        except PosError as error:
            db.session.rollback()
            error_text, status = _show_error(form, error), error.status
        else:
            flash(f"Item {item.sku} created. Receive its stock from here.")
            return redirect(url_for("stock.item", sku=item.sku))
    elif form.is_submitted():
        status = 422
    return render_template("catalog/item_form.html", form=form, item=None,
                           error_text=error_text), status


def _edit_form(item: Item) -> ItemEditForm:
    if request.method == "POST":
        form = ItemEditForm()
    else:
        form = ItemEditForm(data={
            "name": item.name, "barcode": item.barcode or "",
            "price": dollars_text(item.price_cents), "cost": dollars_text(item.cost_cents),
            "taxable": item.taxable, "reorder_point": item.reorder_point,
            "reorder_quantity": item.reorder_quantity, "active": item.active,
            "supplier": item.supplier_id or 0})
    form.supplier.choices = [SelectChoice(0, "None (not ordered through the POS)")] + [
        SelectChoice(s.id, s.name) for s in suppliers.list_suppliers(db.session)]
    return form


@catalog_bp.route("/items/<sku>/edit", methods=["GET", "POST"])
@role_required("manager")
def edit_item(sku: str):  # type: ignore[no-untyped-def]
    item = _item(sku)
    form = _edit_form(item)
    status, error_text = 200, None
    if form.validate_on_submit():
        changes: dict[str, Any] = {
            "name": form.name.data, "barcode": form.barcode.data or None,
            "price_cents": form.price.cents, "cost_cents": form.cost.cents,
            "taxable": bool(form.taxable.data), "reorder_point": form.reorder_point.data,
            "reorder_quantity": form.reorder_quantity.data, "active": bool(form.active.data),
            "supplier_id": form.supplier.data or None}
        try:
            catalog.update_item(item.sku, changes, current_user.id)
        except PosError as error:
            db.session.rollback()
            error_text, status = _show_error(form, error), error.status
        else:
            flash(f"{changes['name']} saved.")
            return redirect(url_for("stock.item", sku=item.sku))
    elif form.is_submitted():
        status = 422
    return render_template("catalog/item_form.html", form=form, item=item,
                           history=catalog.price_history(db.session, item),
                           error_text=error_text), status


@catalog_bp.route("/items/<sku>/contents", methods=["GET", "POST"])
@role_required("manager")
def bundle_contents(sku: str):  # type: ignore[no-untyped-def]
    bundle = _item(sku)
    if bundle.kind != "bundle":
        abort(404, "Only a bundle has contents.")
    current = {c.item_id: c.quantity for c in catalog.bundle_contents(db.session, bundle)}
    candidates = db.session.scalars(
        select(Item).where(((Item.kind != "bundle") & Item.active.is_(True))
                           | Item.id.in_(list(current))).where(Item.id != bundle.id)
        .order_by(Item.kind, Item.name)).all()
    form = add_quantities(ContentsForm, [(i.id, f"{i.name} ({i.sku}), {i.unit}")
                                         for i in candidates], current)()
    status, error_text = 200, None
    if form.validate_on_submit():
        lines = tuple((i.sku, form[f"qty_{i.id}"].data) for i in candidates
                      if form[f"qty_{i.id}"].data)
        try:
            catalog.set_bundle_contents(bundle.sku, lines, current_user.id)
        except PosError as error:
            db.session.rollback()
            error_text, status = error.message, error.status
        else:
            flash(f"Contents of {bundle.name} saved.")
            return redirect(url_for("stock.item", sku=bundle.sku))
    elif form.is_submitted():
        status = 422
    return render_template("catalog/contents.html", bundle=bundle, form=form, items=candidates,
                           error_text=error_text), status


# -- packages ------------------------------------------------------------------------------

@catalog_bp.get("/packages")
@role_required("manager")
def packages():  # type: ignore[no-untyped-def]
    return render_template("catalog/packages.html",
                           packages=catalog.list_packages(db.session, include_inactive=True))


def _supply_candidates(current: dict[int, int]) -> list[Item]:
    """What a session may consume: supplies, and retail items used in the chair."""
    return list(db.session.scalars(
        select(Item).where(((Item.kind != "bundle") & Item.active.is_(True))
                           | Item.id.in_(list(current))).order_by(Item.kind, Item.name)))


def _package_form(form_class: type[PackageForm], package: Package | None,
                  candidates: list[Item], current: dict[int, int]) -> PackageForm:
    cls = add_quantities(form_class, [(i.id, f"{i.name} ({i.sku}), {i.unit} per session")
                                      for i in candidates], current)
    if request.method == "POST" or package is None:
        return cls()  # type: ignore[return-value]
    return cls(data={  # type: ignore[return-value]
        "name": package.name, "area": package.area, "sessions": package.sessions,
        "price": dollars_text(package.price_cents),
        "min_days_between": package.min_days_between,
        "max_days_between": package.max_days_between, "active": package.active,
        **{f"qty_{item_id}": quantity for item_id, quantity in current.items()}})


def _lines(form: FlaskForm, candidates: list[Item]) -> tuple[tuple[str, int], ...]:
    return tuple((i.sku, form[f"qty_{i.id}"].data) for i in candidates
                 if form[f"qty_{i.id}"].data)


@catalog_bp.route("/packages/new", methods=["GET", "POST"])
@role_required("manager")
def new_package():  # type: ignore[no-untyped-def]
    candidates = _supply_candidates({})
    form = _package_form(NewPackageForm, None, candidates, {})
    status, error_text = 200, None
    if form.validate_on_submit():
        try:
            package = catalog.create_package(catalog.NewPackage(
                code=form.code.data or "", name=form.name.data or "", area=form.area.data or "",
                sessions=form.sessions.data or 0, price_cents=form.price.cents or 0,
                min_days_between=form.min_days_between.data or 0,
                max_days_between=form.max_days_between.data,
                supplies=_lines(form, candidates), active=bool(form.active.data)),
                current_user.id)
        except PosError as error:
            db.session.rollback()
            error_text, status = _show_error(form, error), error.status
        else:
            flash(f"Package {package.code} created.")
            return redirect(url_for("catalog.packages"))
    elif form.is_submitted():
        status = 422
    return render_template("catalog/package_form.html", form=form, package=None,
                           items=candidates, error_text=error_text), status


@catalog_bp.route("/packages/<code>/edit", methods=["GET", "POST"])
@role_required("manager")
def edit_package(code: str):  # type: ignore[no-untyped-def]
    try:
        package = catalog.package_by_code(db.session, code[:40])
    except NotFound:
        abort(404, "No such package.")
    current = {line.item_id: line.quantity for line in package.supplies}
    candidates = _supply_candidates(current)
    form = _package_form(PackageForm, package, candidates, current)
    status, error_text = 200, None
    if form.validate_on_submit():
        changes = {"name": form.name.data, "area": form.area.data,
                   "sessions": form.sessions.data, "price_cents": form.price.cents,
                   "min_days_between": form.min_days_between.data,
                   "max_days_between": form.max_days_between.data,
                   "active": bool(form.active.data)}
        try:
            catalog.update_package(package.code, changes, _lines(form, candidates),
                                   current_user.id)
        except PosError as error:
            db.session.rollback()
            error_text, status = _show_error(form, error), error.status
        else:
            flash(f"Package {package.code} saved; its supplies apply to treatments recorded "
                  "from now on.")
            return redirect(url_for("catalog.packages"))
    elif form.is_submitted():
        status = 422
    return render_template("catalog/package_form.html", form=form, package=package,
                           items=candidates, error_text=error_text), status

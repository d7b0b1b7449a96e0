"""Locations (admin: list, add, each user's home location) and stock transfers between
them (manager). Each action has its API twin in pos/web/api/locations.py and
pos/web/api/users.py."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from pos.domain.errors import PosError
from pos.extensions import db
from pos.services import accounts, locations, stock, transfers
from pos.web.access import role_required
from pos.web.locations.forms import HomeLocationForm, LocationForm, TransferForm
from pos.web.workplace import current_location

locations_bp = Blueprint("locations", __name__)


def _home_form(form: HomeLocationForm | None = None) -> HomeLocationForm:
    form = form or HomeLocationForm(formdata=None)
    form.user.choices = [(u.id, f"{u.name} ({u.email})") for u in
                         accounts.list_users(db.session) if u.active]
    form.location.choices = [(loc.id, loc.name) for loc in locations.list_locations(db.session)]
    return form


def _page(form: LocationForm, home: HomeLocationForm, status: int):  # type: ignore[no-untyped-def]
    rows = locations.list_locations(db.session)
    names = {loc.id: loc.name for loc in rows}
    staff = [(u, names.get(u.home_location_id or rows[0].id)) for u in
             accounts.list_users(db.session) if u.active]
    return render_template("locations/index.html", form=form, home=home, rows=rows,
                           staff=staff), status


@locations_bp.route("/admin/locations", methods=["GET", "POST"])
@role_required("admin")
def index():  # type: ignore[no-untyped-def]
    form = LocationForm()
    status = 200
    if form.validate_on_submit():
        try:
            location = locations.create_location(form.name.data or "", current_user.id)
        except PosError as error:
            db.session.rollback()
            form.name.errors = [*form.name.errors, error.message]
            status = error.status
        else:
            flash(f"Location {location.name} added.")
            return redirect(url_for("locations.index"))
    elif form.is_submitted():
        status = 422
    return _page(form, _home_form(), status)


@locations_bp.post("/admin/locations/home")
@role_required("admin")
def set_home():  # type: ignore[no-untyped-def]
    home = _home_form(HomeLocationForm())
    if home.validate_on_submit():
        try:
            locations.set_home_location(home.user.data, home.location.data, current_user.id)
        except PosError as error:
            home.location.errors = [error.message]
            return _page(LocationForm(formdata=None), home, error.status)
        flash("Home location saved.")
        return redirect(url_for("locations.index"))
    return _page(LocationForm(formdata=None), home, 422)


def _transfer_form(form: TransferForm | None = None) -> TransferForm:
    form = form or TransferForm(formdata=None)
    places = [(loc.id, loc.name) for loc in locations.list_locations(db.session)]
    form.from_location.choices = places
    form.to_location.choices = places
    form.sku.choices = [(row.item.sku, f"{row.item.name} ({row.item.sku})")
                        for row in stock.list_items(db.session) if row.item.kind != "bundle"]
    return form


@locations_bp.route("/stock/transfers", methods=["GET", "POST"])
@role_required("manager")
def transfer():  # type: ignore[no-untyped-def]
    form = _transfer_form(TransferForm())
    status = 200
    if form.validate_on_submit():
        try:
            result = transfers.transfer_stock(
                sku=form.sku.data or "", lot_code=form.lot.data or "",
                quantity=form.quantity.data or 0, from_location_id=form.from_location.data,
                to_location_id=form.to_location.data, user_id=current_user.id,
                note=form.note.data or None)
        except PosError as error:
            db.session.rollback()
            fields = error.details.get("fields") or {}
            target = form.to_location if "to_location" in fields else \
                form.lot if error.code == "insufficient_stock" and \
                error.details.get("available") == 0 else form.quantity
            target.errors = [*target.errors, error.message]
            status = error.status
        else:
            places = dict(form.from_location.choices)  # type: ignore[arg-type]
            flash(f"Transferred {form.quantity.data} of lot {form.lot.data} from "
                  f"{places[form.from_location.data]} (now {result.from_on_hand}) to "
                  f"{places[form.to_location.data]} (now {result.to_on_hand}).")
            return redirect(url_for("locations.transfer"))
    elif form.is_submitted():
        status = 422
    else:
        form.from_location.data = current_location().id
    return render_template("locations/transfer.html", form=form), status

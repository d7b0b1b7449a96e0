"""The manager's alerts desk: open alerts, delivery problems, the outbox, the reorder list."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from pos.domain.limits import MAX_ID
from pos.extensions import db
from pos.models import Location, Package
from pos.services import alerts, catalog, clock, expected_treatments, reorder
from pos.services.alert_texts import KIND_LABELS
from pos.web import current_settings
from pos.web.access import role_required
from pos.web.alerts.forms import expected_treatments_form

alerts_bp = Blueprint("alerts", __name__, url_prefix="/alerts")


@alerts_bp.get("/")
@role_required("manager")
def index():  # type: ignore[no-untyped-def]
    return render_template(
        "alerts/index.html",
        open_alerts=alerts.list_alerts(db.session, open_only=True),
        failing=alerts.failing_messages(db.session),
        outbox=alerts.undelivered_mail(db.session),
        mail_configured=bool(current_settings().mail_server),
        kind_labels=KIND_LABELS,
    )


@alerts_bp.post("/<int:alert_id>/acknowledge")
@role_required("manager")
def acknowledge(alert_id: int):  # type: ignore[no-untyped-def]
    alert = alerts.acknowledge(alert_id, current_user.id)
    flash(f"Acknowledged the {KIND_LABELS[alert.kind].lower()} alert "
          f"for {alert.item.name}.")
    return redirect(url_for("alerts.index"))


def _location_id() -> int | None:
    """?location=ID: one location's shelf; absent, all of them; unknown: 404."""
    raw = request.args.get("location", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
        abort(404, "No such location.")
    return reorder.location_or_404(db.session, int(raw)).id


def _reorder_page(form: FlaskForm, packages: list[Package], status: int = 200):  # type: ignore[no-untyped-def]
    cover_days = current_settings().reorder_cover_days
    location_id = _location_id()
    return render_template(
        "alerts/reorder.html",
        rows=reorder.reorder_list(db.session, cover_days, location_id=location_id),
        today=clock.today(), cover_days=cover_days, location_id=location_id,
        locations=list(db.session.scalars(select(Location).order_by(Location.id))),
        packages=packages, form=form, bad=[f for f in form if f.errors],
        basis_labels=BASIS_LABELS), status


BASIS_LABELS = {"usage": "Last 30 days", "bookings": "Expected treatments"}


@alerts_bp.get("/reorder", endpoint="reorder")
@role_required("manager")
def reorder_page():  # type: ignore[no-untyped-def]
    packages = catalog.list_packages(db.session)
    return _reorder_page(expected_treatments_form(packages)(), packages)


@alerts_bp.post("/reorder/expected-treatments")
@role_required("manager")
def set_expected_treatments():  # type: ignore[no-untyped-def]
    """Every active package's count at once; only the changed ones are saved (a count
    keeps the date it was last set)."""
    packages = catalog.list_packages(db.session)
    form = expected_treatments_form(packages)()
    if not form.validate_on_submit():
        return _reorder_page(form, packages, 422)
    changes = []
    for package in packages:
        count = form[f"expected_{package.id}"].data
        current = package.expected_treatments
        if current is None and count == 0 or current is not None and current.count == count:
            continue
        changes.append((package.code, count))
    db.session.rollback()
    for code, count in changes:
        expected_treatments.set_expected_treatments(code, count, current_user.id)
    flash(f"Expected treatments saved ({len(changes)} package(s) changed).")
    return redirect(url_for("alerts.reorder", **request.args))


CSV_COLUMNS = ["sku", "name", "unit", "on_hand", "available", "reorder_point",
               "reorder_quantity", "suggested_quantity", "days_of_cover", "used_last_30_days",
               "on_order", "booked_next_14_days", "basis"]


@alerts_bp.get("/reorder.csv")
@role_required("manager")
def reorder_csv():  # type: ignore[no-untyped-def]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in reorder.reorder_list(db.session, current_settings().reorder_cover_days,
                                    location_id=_location_id()):
        writer.writerow([_csv_safe(getattr(row, c)) for c in CSV_COLUMNS])
    filename = f"reorder-{clock.today().isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _csv_safe(value: object) -> object:
    # A name starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value

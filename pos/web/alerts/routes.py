"""The manager's alerts desk: open alerts, delivery problems, the outbox, the reorder list."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import current_user

from pos.extensions import db
from pos.services import alerts, clock
from pos.services.alert_texts import KIND_LABELS
from pos.web import current_settings
from pos.web.access import role_required

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


@alerts_bp.get("/reorder")
@role_required("manager")
def reorder():  # type: ignore[no-untyped-def]
    cover_days = current_settings().reorder_cover_days
    return render_template("alerts/reorder.html",
                           rows=alerts.reorder_list(db.session, cover_days),
                           today=clock.today(), cover_days=cover_days)


CSV_COLUMNS = ["sku", "name", "unit", "on_hand", "available", "reorder_point",
               "reorder_quantity", "suggested_quantity", "days_of_cover", "used_last_30_days"]


@alerts_bp.get("/reorder.csv")
@role_required("manager")
def reorder_csv():  # type: ignore[no-untyped-def]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in alerts.reorder_list(db.session, current_settings().reorder_cover_days):
        writer.writerow([_csv_safe(getattr(row, c)) for c in CSV_COLUMNS])
    filename = f"reorder-{clock.today().isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _csv_safe(value: object) -> object:
    # A name starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value

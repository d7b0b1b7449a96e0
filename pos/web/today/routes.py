"""A provider's landing page: today's clients and the series due for a session."""
from __future__ import annotations

from flask import Blueprint, render_template

from pos.extensions import db
from pos.services import clock, today
from pos.web import current_clinic
from pos.web.access import role_required

today_bp = Blueprint("today", __name__)


@today_bp.get("/today")
@role_required("provider")
def index():  # type: ignore[no-untyped-def]
    zone = current_clinic().zone
    lists = today.todays_clients(db.session(), clock.today(zone), zone)
    return render_template("today/index.html", lists=lists)

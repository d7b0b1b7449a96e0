"""Which location a page request works at.

The signed-in browser's location (chosen at sign-in, kept on the server-side staff
session), else the user's home location, else the clinic's first one. A stock page may
ask for another with `?location=ID` (an unknown id is a 404 page).
"""
from __future__ import annotations

from flask import abort, g, request
from flask_login import current_user

from pos.domain.errors import NotFound
from pos.extensions import db
from pos.models import Location
from pos.services import locations


def current_location(*, asked: bool = False) -> Location:
    """The request's location; with `asked`, `?location=ID` first."""
    wanted = None
    if asked:
        text = request.args.get("location", "")
        if text:
            if not text.isdigit() or len(text) > 9:
                abort(404)
            wanted = int(text)
    try:
        return locations.working_location(
            db.session, asked=wanted, session_location_id=g.get("staff_location_id"),
            user=current_user if current_user.is_authenticated else None)
    except NotFound:
        abort(404)


def current_location_id() -> int | None:
    """The request's location id without a query (None: the clinic's first location), for
    the services that resolve it in their own transaction (sales, drawers, treatments)."""
    if not current_user.is_authenticated:
        return None
    return g.get("staff_location_id") or current_user.home_location_id


def header_location() -> Location | None:
    """The location for the top bar: only when the clinic has several."""
    if not current_user.is_authenticated or not locations.several(db.session):
        return None
    return current_location()

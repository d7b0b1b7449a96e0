"""The Drawer page: open with a float, live figures, paid in/out, count and close, reopen
(managers), past drawers, and each drawer's printable Z report. Every action here has
its API twin in pos/web/api/drawers.py."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pos.domain.drawers import NoOpenDrawer
from pos.domain.errors import NotFound, PosError
from pos.domain.limits import MAX_ID
from pos.domain.money import format_cents
from pos.extensions import db
from pos.services import drawers
from pos.web import current_settings
from pos.web.access import role_required
from pos.web.drawers.forms import CloseDrawerForm, MovementForm, OpenDrawerForm, ReopenForm
from pos.web.workplace import current_location_id

drawers_bp = Blueprint("drawers", __name__, url_prefix="/drawers")

PER_PAGE = 20


def _page() -> int:
    text = request.args.get("page", "1")
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= 10_000 else 1


def _render(status: int = 200, **forms: Any):  # type: ignore[no-untyped-def]
    try:
        current = drawers.current_drawer(db.session, current_location_id())
    except NoOpenDrawer:
        current = None
    page = _page()
    past, total = drawers.list_drawers(db.session, page=page, per_page=PER_PAGE)
    return render_template(
        "drawers/index.html", current=current,
        open_form=forms.get("open_form") or OpenDrawerForm(prefix="open"),
        movement_form=forms.get("movement_form") or MovementForm(prefix="move"),
        close_form=forms.get("close_form") or CloseDrawerForm(prefix="close"),
        reopen_form=ReopenForm(prefix="reopen"), past=past, page=page,
        pages=max(1, -(-total // PER_PAGE)),
        tolerance_cents=current_settings().drawer_tolerance_cents,
        error=forms.get("error")), status


@drawers_bp.get("")
@role_required("front_desk")
def index():  # type: ignore[no-untyped-def]
    return _render()


@drawers_bp.post("/open")
@role_required("front_desk")
def open_drawer():  # type: ignore[no-untyped-def]
    form = OpenDrawerForm(prefix="open")
    if not form.validate_on_submit():
        return _render(422, open_form=form)
    try:
        drawers.open_drawer(opening_float_cents=form.opening_float.cents or 0,
                            user_id=current_user.id, location_id=current_location_id())
    except PosError as error:
        db.session.rollback()
        form.opening_float.errors = [*form.opening_float.errors, error.message]
        return _render(error.status, open_form=form)
    flash("Drawer opened.")
    return redirect(url_for("drawers.index"))


def _drawer_id(drawer_id: int) -> int:
    if drawer_id > MAX_ID:
        raise NotFound(f"There is no drawer {drawer_id}.")
    return drawer_id


@drawers_bp.post("/<int:drawer_id>/movements")
@role_required("front_desk")
def movement(drawer_id: int):  # type: ignore[no-untyped-def]
    form = MovementForm(prefix="move")
    if not form.validate_on_submit():
        return _render(422, movement_form=form)
    try:
        drawers.record_movement(_drawer_id(drawer_id), kind=form.kind.data or "",
                                amount_cents=form.amount.cents or 0, note=form.note.data or "",
                                user_id=current_user.id)
    except PosError as error:
        db.session.rollback()
        form.amount.errors = [*form.amount.errors, error.message]
        return _render(error.status, movement_form=form)
    flash("Paid in." if form.kind.data == "paid_in" else "Paid out.")
    return redirect(url_for("drawers.index"))


@drawers_bp.post("/<int:drawer_id>/close")
@role_required("front_desk")
def close(drawer_id: int):  # type: ignore[no-untyped-def]
    form = CloseDrawerForm(prefix="close")
    if not form.validate_on_submit():
        return _render(422, close_form=form)
    try:
        view = drawers.close_drawer(
            _drawer_id(drawer_id), counted_cents=form.counted.cents or 0,
            note=form.note.data, user_id=current_user.id,
            tolerance_cents=current_settings().drawer_tolerance_cents)
    except PosError as error:
        db.session.rollback()
        field = form.note if error.code == "note_required" else form.counted
        field.errors = [*field.errors, error.message]
        return _render(error.status, close_form=form)
    flash("Drawer closed: over/short "
          f"{format_cents(view.drawer.over_short_cents or 0, current_settings().currency)}.")
    return redirect(url_for("drawers.report", drawer_id=view.drawer.id))


@drawers_bp.post("/<int:drawer_id>/reopen")
@role_required("manager")
def reopen(drawer_id: int):  # type: ignore[no-untyped-def]
    form = ReopenForm(prefix="reopen")
    if not form.validate_on_submit():
        return _render(422)
    try:
        drawers.reopen_drawer(_drawer_id(drawer_id), user_id=current_user.id)
    except PosError as error:
        db.session.rollback()
        return _render(error.status, error=error.message)
    flash(f"Drawer {drawer_id} reopened.")
    return redirect(url_for("drawers.index"))


@drawers_bp.get("/<int:drawer_id>/report")
@role_required("front_desk")
def report(drawer_id: int):  # type: ignore[no-untyped-def]
    view = drawers.get_drawer(db.session, _drawer_id(drawer_id))
    return render_template("drawers/report.html", drawer=view.drawer, figures=view.figures,
                           entries=drawers.entries(db.session, view.drawer.id))

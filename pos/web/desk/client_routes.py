"""The client's own page (purchases, sessions left, treatments for a provider, receipts),
its edit form and the manager's merge page. API twins: pos/web/api/clients.py."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from pos.domain.errors import PosError
from pos.extensions import db
from pos.models import Client
from pos.services import client_merge, clients, credit, need_to_know
from pos.services.transaction import write_transaction
from pos.web import current_settings
from pos.web.access import role_required
from pos.web.desk.forms import ClientEditForm, MergeForm
from pos.web.desk.routes import STATUS_LABELS, desk_bp

EDIT_FIELDS = ("first_name", "last_name", "email", "phone", "date_of_birth", "notes",
               "allergies")


def _note_read(client_id: int, clinical: str | None) -> None:
    with write_transaction() as session:
        need_to_know.note_client_read(session, user_id=current_user.id, client_id=client_id,
                                      settings=current_settings(), clinical=clinical)


@desk_bp.get("/clients/<int:client_id>")
@role_required("front_desk")
def client_page(client_id: int):  # type: ignore[no-untyped-def]
    summary = clients.client_summary(db.session, client_id)
    history = clients.client_sales(db.session, client_id)
    provider = clients.may_see_clinical(current_user)
    treated = clients.client_treatments(db.session, client_id) if provider else []
    # A provider's page shows allergies and treatments: a clinical read, audited.
    _note_read(summary.client.id, "allergies,treatments" if provider else None)
    receipts = [s for s in history if s.status == "paid" and s.receipt_number]
    return render_template("desk/client.html", summary=summary, client=summary.client,
                           sales=history, status_labels=STATUS_LABELS, provider=provider,
                           treatments=treated, receipts=receipts,
                           credit_entries=credit.history(db.session, client_id))


def _edit_form(client: Client | None = None) -> ClientEditForm:
    form = ClientEditForm(obj=client) if client is not None else ClientEditForm()
    if not clients.may_see_clinical(current_user):
        del form.allergies  # clinical: not shown, not read, not written
    return form


@desk_bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@role_required("front_desk")
def client_edit(client_id: int):  # type: ignore[no-untyped-def]
    client = clients.get_client(db.session, client_id)
    form = _edit_form(client)
    status = 200
    if form.validate_on_submit():
        changes: dict[str, Any] = {name: getattr(form, name).data for name in EDIT_FIELDS
                                   if name in form}
        try:
            clients.update_client(client.id, changes, user=current_user)
        except PosError as error:
            db.session.rollback()
            _show_error(form, error)
            status = error.status
        else:
            flash("Client saved.")
            return redirect(url_for("desk.client_page", client_id=client.id))
    elif form.is_submitted():
        status = 422
    if "allergies" in form:
        _note_read(client.id, "allergies")
    return render_template("desk/client_edit.html", form=form, client=client), status


def _show_error(form: Any, error: PosError) -> None:
    fields = error.details.get("fields") or {}
    for name, problem in fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, f"{field.label.text} {problem}."]
    if not fields:
        target = form.email if error.code == "duplicate_client" else form.first_name
        target.errors = [*target.errors, error.message]


@desk_bp.route("/clients/<int:client_id>/merge", methods=["GET", "POST"])
@role_required("manager")
def client_merge_page(client_id: int):  # type: ignore[no-untyped-def]
    client = clients.get_client(db.session, client_id)
    form = MergeForm()
    status = 200
    if form.validate_on_submit():
        try:
            kept = client_merge.merge_clients(client.id, form.into_id.data or 0,
                                              user_id=current_user.id)
        except PosError as error:
            db.session.rollback()
            form.into_id.errors = [*form.into_id.errors, error.message]
            status = error.status
        else:
            flash(f"Client {client_id} merged into {kept.full_name}.")
            return redirect(url_for("desk.client_page", client_id=kept.id))
    elif form.is_submitted():
        status = 422
    # Who it could be: clients of the same last name (the merge's usual case).
    candidates = [c for c in clients.search_clients(db.session, client.last_name, limit=20)
                  if c.id != client.id]
    return render_template("desk/client_merge.html", form=form, client=client,
                           candidates=candidates), status

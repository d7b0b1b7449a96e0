"""The clinical desk: a client's treatments and series, recording one with its screening,
voiding a mistake, recalls by lot, and packages' bills of materials. The clinic's documents
(the questionnaire, the consent form and signing it, the aftercare sheet) are in
pos/web/clinical/documents.py, on the same blueprint."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields import SelectChoice

from pos.domain.errors import NotFound, PosError
from pos.domain.limits import MAX_ID
from pos.domain.screening import BOOLEAN, Questionnaire, Severity
from pos.extensions import db
from pos.models import Client, Item, Package, Treatment
from pos.services import catalog, clock, consent, need_to_know, questionnaire, treatments
from pos.services.transaction import write_transaction
from pos.web import current_settings
from pos.web.access import role_required
from pos.web.clinical.forms import (
    FIELD_PREFIX,
    RecallForm,
    VoidForm,
    question_groups,
    supplies_form,
    treatment_form,
)
from pos.web.workplace import current_location_id

clinical_bp = Blueprint("clinical", __name__)



def _client_or_404(client_id: int) -> Client:
    client = db.session.get(Client, client_id) if 0 < client_id <= MAX_ID else None
    if client is None:
        abort(404, "No such client.")
    return client


def _purchase_choices(progress: list[treatments.PurchaseProgress]) -> list[SelectChoice]:
    return [SelectChoice(p.purchase_id, f"{p.package_name} ({p.area}): {p.sessions_left} of "
                         f"{p.sessions_total} left") for p in progress if p.sessions_left > 0]


def _last_answers(client_id: int, asked: Questionnaire) -> dict[str, dict[str, str]]:
    """The client's last (non-voided) visit's answer to each question still asked, for the
    provider to re-confirm one by one: {key: {"value": form value, "text": shown}}."""
    last = db.session.scalar(
        select(Treatment).where(Treatment.client_id == client_id,
                                Treatment.voided_at.is_(None))
        .order_by(Treatment.performed_at.desc(), Treatment.id.desc()).limit(1))
    if last is None:
        return {}
    out = {}
    for q in asked.questions:
        if q.key not in last.screening:
            continue
        answer = last.screening[q.key]
        if q.type == BOOLEAN and isinstance(answer, bool):
            out[q.key] = {"value": "yes" if answer else "no", "text": "Yes" if answer else "No"}
        elif q.type != BOOLEAN and (answer is None or isinstance(answer, str)):
            out[q.key] = {"value": answer or "", "text": answer or "never"}
    return out


def _refusal(error: PosError) -> dict:
    """What the page shows for a refused treatment: the message and, when there is one, the
    first date the client may be treated."""
    return {"code": error.code, "message": error.message,
            "eligible_on": error.details.get("eligible_on")}


@clinical_bp.route("/clients/<int:client_id>/treatments", methods=["GET", "POST"])
@role_required("provider")
def client_treatments(client_id: int):  # type: ignore[no-untyped-def]
    client = _client_or_404(client_id)
    progress = treatments.series_progress(db.session, client.id)
    in_force = questionnaire.in_force(db.session)
    form = treatment_form(in_force.questionnaire)
    form.purchase_id.choices = _purchase_choices(progress)
    refusal = None
    status = 200
    if form.validate_on_submit():
        try:
            result = treatments.perform_treatment(
                client_id=client.id, purchase_id=form.purchase_id.data,
                area=form.area.data or "", screening_raw=form.screening_raw(),
                acknowledged_cautions=list(form.acknowledged.data or []),
                performed_at=None, user_id=current_user.id,
                bundle_sku=current_settings().first_visit_bundle_sku,
                notes=form.notes.data or None, settings=form.treatment_settings(),
                location_id=current_location_id())
        except PosError as error:
            refusal = _refusal(error)
            status = error.status
        else:
            used = ", ".join(f"{c.quantity} {c.sku} (lot {c.lot})" for c in result.consumed)
            message = (f"Session {result.session_number} recorded; {result.sessions_left} "
                       f"left. Used: {used}.")
            if result.provider:
                message += f" Provider: {result.provider}."
            if result.aftercare_emailed:
                message += " Aftercare emailed to the client."
            if result.first_visit_bundle:
                message += " Hand the client their first-visit bundle."
            if result.off_rhythm:
                message += " This session was later than the recommended rhythm."
            flash(message)
            return redirect(url_for("clinical.client_treatments", client_id=client.id))
    elif form.is_submitted():
        status = 422
    if request.method == "GET":
        # The client's treatment history is clinical: each look is audited.
        with write_transaction() as session:
            need_to_know.note_client_read(session, user_id=current_user.id,
                                          client_id=client.id, settings=current_settings(),
                                          clinical="treatments")
    if not form.is_submitted() and progress:
        # Preselect the area of the first package with sessions left.
        open_series = [p for p in progress if p.sessions_left > 0]
        if open_series:
            form.area.data = open_series[0].area
    return render_template(
        "clinical/client_treatments.html", client=client, progress=progress, form=form,
        groups=question_groups(in_force.questionnaire), in_force=in_force,
        form_in_force=consent.form_in_force(db.session),
        consent_current=consent.has_current_consent(db.session, client.id),
        last_answers=_last_answers(client.id, in_force.questionnaire),
        prefix=FIELD_PREFIX, refusal=refusal, void_form=VoidForm(),
        today=clock.today().isoformat(),
        can_void=current_user.has_role("provider"),
        can_void_later=current_user.has_role("provider") and current_user.has_role("manager"),
    ), status


@clinical_bp.get("/clients/<int:client_id>/treatments/<int:treatment_id>/screening")
@role_required("provider")
def screening(client_id: int, treatment_id: int):  # type: ignore[no-untyped-def]
    client = _client_or_404(client_id)
    treatment = db.session.get(Treatment, treatment_id) if 0 < treatment_id <= MAX_ID \
        else None
    if treatment is None or treatment.client_id != client.id:
        abort(404, "No such treatment for this client.")
    view = treatments.view_screening(treatment.id, current_user, current_settings())
    asked = questionnaire.by_version(db.session, treatment.questionnaire_version)
    return render_template("clinical/screening.html", client=client, view=view,
                           asked=asked, groups=question_groups(asked),
                           acknowledged=[(asked.text_of(k), k) for k in
                                         view.acknowledged_cautions],
                           avoid_areas=asked.keys_of(Severity.AVOID_AREA))


@clinical_bp.post("/clients/<int:client_id>/treatments/<int:treatment_id>/void")
@role_required("provider")
def void(client_id: int, treatment_id: int):  # type: ignore[no-untyped-def]
    client = _client_or_404(client_id)
    form = VoidForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400, "The form had expired. Reload the page and try again.")
        flash("Not voided: Say why the treatment is voided.")
        return redirect(url_for("clinical.client_treatments", client_id=client.id))
    treatment = db.session.get(Treatment, treatment_id) if 0 < treatment_id <= MAX_ID \
        else None
    if treatment is None or treatment.client_id != client.id:
        abort(404, "No such treatment for this client.")
    try:
        result = treatments.void_treatment(treatment.id, current_user.id, form.reason.data)
    except PosError as error:
        flash(f"Not voided: {error.message}")
    else:
        wasted = ", ".join(f"{c.quantity} {c.sku} (lot {c.lot})" for c in result.written_off)
        flash(f"Treatment voided: the session is back ({result.sessions_left} left). "
              f"Written off as waste: {wasted or 'nothing'}.")
    return redirect(url_for("clinical.client_treatments", client_id=client.id))


# -- recall ---------------------------------------------------------------------------------

def _recall_rows(lot: str) -> tuple[list[treatments.RecallRow], str | None]:
    try:
        return treatments.recall(db.session, lot), None
    except NotFound as error:
        return [], error.message


@clinical_bp.get("/recall")
@role_required("manager")
def recall():  # type: ignore[no-untyped-def]
    form = RecallForm(request.args)
    rows: list[treatments.RecallRow] = []
    problem = None
    searched = bool(request.args.get("lot"))
    if searched and form.validate():
        rows, problem = _recall_rows(form.lot.data.strip())
    return render_template("clinical/recall.html", form=form, rows=rows, problem=problem,
                           searched=searched)


def _cell(text: str) -> str:
    """A spreadsheet must not run a lot code typed as "=..." as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@clinical_bp.get("/recall.csv")
@role_required("manager")
def recall_csv():  # type: ignore[no-untyped-def]
    lot = (request.args.get("lot") or "").strip()[:60]
    if not lot:
        abort(400, "Give a lot number: /recall.csv?lot=...")
    rows, problem = _recall_rows(lot)
    if problem:
        abort(404, problem)
    out = io.StringIO()
    writer = csv.writer(out)
    # Client ids, not names: the file leaves the app; the page shows who they are.
    writer.writerow(["treatment_id", "client_id", "performed_at", "sku", "lot", "quantity"])
    for r in rows:
        writer.writerow([r.treatment_id, r.client_id, r.performed_at.isoformat(),
                         _cell(r.sku), _cell(r.lot), r.quantity])
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in lot)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="recall-{safe}.csv"'})


# -- packages and their bill of materials ---------------------------------------------------

@clinical_bp.get("/packages")
@role_required("manager")
def packages():  # type: ignore[no-untyped-def]
    return render_template("clinical/packages.html",
                           packages=catalog.list_packages(db.session))


@clinical_bp.route("/packages/<code>/supplies", methods=["GET", "POST"])
@role_required("manager")
def package_supplies(code: str):  # type: ignore[no-untyped-def]
    package = db.session.scalar(select(Package).where(Package.code == code[:40]))
    if package is None:
        abort(404, "No such package.")
    current = {line.item_id: line.quantity for line in package.supplies}
    items = db.session.scalars(
        select(Item).where((Item.kind == "supply") | Item.id.in_(list(current)))
        .order_by(Item.name)).all()
    form = supplies_form([(i.id, f"{i.name} ({i.sku}), {i.unit} per session") for i in items],
                         current)
    status = 200
    if form.validate_on_submit():
        lines = tuple((i.sku, form[f"qty_{i.id}"].data) for i in items
                      if form[f"qty_{i.id}"].data)
        try:
            catalog.set_package_supplies(package.code, lines, current_user.id)
        except PosError as error:
            flash(f"Not saved: {error.message}")
            status = error.status
        else:
            flash(f"Bill of materials of {package.name} saved; it applies to treatments "
                  "recorded from now on.")
            return redirect(url_for("clinical.package_supplies", code=package.code))
    elif form.is_submitted():
        status = 422
    return render_template("clinical/package_supplies.html", package=package, form=form,
                           items=items), status


# The clinic's documents (questionnaire, consent, aftercare) register on this blueprint.
from pos.web.clinical import documents  # noqa: E402,F401

"""The clinic's clinical documents, on the clinical blueprint: the screening questionnaire
and the consent form (published by a provider who is also a manager), a client signing the
consent on the tablet and its printable copy, and the aftercare sheet. Each page is the twin
of an API endpoint (pos/web/api/treatments.py)."""
from __future__ import annotations

import base64
import json

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from pos.domain.consent import decode_signature
from pos.domain.errors import PosError
from pos.extensions import db
from pos.services import aftercare, consent, questionnaire
from pos.web import current_settings
from pos.web.access import role_required
from pos.web.clinical.forms import (
    AftercareSheetForm,
    ConsentFormForm,
    ConsentSignForm,
    QuestionnaireForm,
)
from pos.web.clinical.routes import _client_or_404, clinical_bp

# -- the questionnaire ----------------------------------------------------------------------

def _questionnaire_page(form: QuestionnaireForm, status: int = 200,  # type: ignore[no-untyped-def]
                        problems: dict | None = None):
    in_force = questionnaire.in_force(db.session)
    if not form.is_submitted():
        form.questions.data = json.dumps(in_force.questionnaire.to_json(), indent=2)
    can_publish = current_user.has_role("provider") and current_user.has_role("manager")
    return render_template("clinical/questionnaire.html", in_force=in_force, form=form,
                           can_publish=can_publish, problems=problems or {}), status


@clinical_bp.get("/screening/questionnaire")
@role_required("provider")
def questionnaire_page():  # type: ignore[no-untyped-def]
    return _questionnaire_page(QuestionnaireForm())


@clinical_bp.post("/screening/questionnaire")
@role_required("provider+manager")
def publish_questionnaire():  # type: ignore[no-untyped-def]
    form = QuestionnaireForm()
    if not form.validate_on_submit():
        return _questionnaire_page(form, 422)
    try:
        raw = json.loads(form.questions.data)
    except ValueError:
        form.questions.errors = ["Not valid JSON: a list of questions."]
        return _questionnaire_page(form, 422)
    try:
        published = questionnaire.publish(raw, current_user.id)
    except PosError as error:
        form.questions.errors = [error.message]
        return _questionnaire_page(form, error.status,
                                   error.details.get("fields") if error.details else None)
    flash(f"Questionnaire version {published.version} published: treatments recorded from "
          "now on answer it.")
    return redirect(url_for("clinical.questionnaire_page"))


# -- consent --------------------------------------------------------------------------------

@clinical_bp.route("/clients/<int:client_id>/consent", methods=["GET", "POST"])
@role_required("provider")
def client_consent(client_id: int):  # type: ignore[no-untyped-def]
    """The consent form in force with a signature pad (touch or mouse), and the client's
    signed consents (the read is audited)."""
    client = _client_or_404(client_id)
    form = ConsentSignForm()
    in_force = consent.form_in_force(db.session)
    status = 200
    problem = None
    if form.validate_on_submit():
        try:
            signed = consent.record_consent(client.id, form.form_version.data,
                                            decode_signature(form.signature.data),
                                            current_user.id)
        except PosError as error:
            problem, status = error.message, error.status
        else:
            flash(f"Consent (form version {signed.form_version}) signed by "
                  f"{client.full_name}, witnessed by {signed.witness}.")
            return redirect(url_for("clinical.client_consent", client_id=client.id))
    elif form.is_submitted():
        status = 422
        problem = "; ".join(e for errors in form.errors.values() for e in errors)
    form.form_version.data = in_force.version
    signed_list = consent.consents_of(client.id, current_user, current_settings())
    current = any(c.form_version == in_force.version for c in signed_list)
    return render_template("clinical/consent.html", client=client, form=form,
                           in_force=in_force, signed=signed_list, current=current,
                           problem=problem), status


@clinical_bp.get("/clients/<int:client_id>/consents/<int:consent_id>")
@role_required("provider")
def signed_consent(client_id: int, consent_id: int):  # type: ignore[no-untyped-def]
    """One signed consent, printable: the text signed, the signature, when and the witness."""
    client = _client_or_404(client_id)
    try:
        view = consent.view_consent(client.id, consent_id, current_user, current_settings())
    except PosError:
        abort(404, "No such consent for this client.")
    image = base64.b64encode(view.signature_png or b"").decode("ascii")
    return render_template("clinical/consent_signed.html", client=client, view=view,
                           image=image)


def _consent_form_page(form: ConsentFormForm, status: int = 200):  # type: ignore[no-untyped-def]
    in_force = consent.form_in_force(db.session)
    if not form.is_submitted():
        form.text.data = in_force.text
    can_publish = current_user.has_role("provider") and current_user.has_role("manager")
    return render_template("clinical/consent_form.html", in_force=in_force, form=form,
                           can_publish=can_publish), status


@clinical_bp.get("/consent-form")
@role_required("provider")
def consent_form_page():  # type: ignore[no-untyped-def]
    return _consent_form_page(ConsentFormForm())


@clinical_bp.post("/consent-form")
@role_required("provider+manager")
def publish_consent_form():  # type: ignore[no-untyped-def]
    form = ConsentFormForm()
    if not form.validate_on_submit():
        return _consent_form_page(form, 422)
    try:
        published = consent.publish_form(form.text.data, current_user.id)
    except PosError as error:
        form.text.errors = [error.message]
        return _consent_form_page(form, error.status)
    flash(f"Consent form version {published.version} published: clients sign it again "
          "before their next treatment.")
    return redirect(url_for("clinical.consent_form_page"))


# -- aftercare ------------------------------------------------------------------------------

def _aftercare_page(form: AftercareSheetForm, status: int = 200):  # type: ignore[no-untyped-def]
    sheet = aftercare.sheet_in_force(db.session)
    if not form.is_submitted():
        form.text.data = sheet.text
    can_edit = current_user.has_role("provider") and current_user.has_role("manager")
    return render_template("clinical/aftercare.html", sheet=sheet, form=form,
                           can_edit=can_edit), status


@clinical_bp.get("/aftercare-sheet")
@role_required("provider")
def aftercare_page():  # type: ignore[no-untyped-def]
    return _aftercare_page(AftercareSheetForm())


@clinical_bp.post("/aftercare-sheet")
@role_required("provider+manager")
def save_aftercare_sheet():  # type: ignore[no-untyped-def]
    form = AftercareSheetForm()
    if not form.validate_on_submit():
        return _aftercare_page(form, 422)
    try:
        aftercare.save_sheet(form.text.data, current_user.id)
    except PosError as error:
        form.text.errors = [error.message]
        return _aftercare_page(form, error.status)
    flash("Aftercare sheet saved: it goes to clients after their next treatments.")
    return redirect(url_for("clinical.aftercare_page"))

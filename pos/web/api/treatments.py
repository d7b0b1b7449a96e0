"""Treatments: redeem a session with its screening, void one the same day, recall by lot."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request

from pos.domain.consent import decode_signature
from pos.domain.treatments import TreatmentSettings
from pos.extensions import db
from pos.services import aftercare, consent, questionnaire, treatments
from pos.web import current_settings
from pos.web.api import api_bp, api_user, idempotent, requires
from pos.web.api.locations import LOCATION_PARAMS, api_location_id
from pos.web.api.openapi import (
    BOOL,
    ID,
    INT,
    PATH_GROUPS,
    STR,
    array,
    errors,
    obj,
    ok,
    op,
    path_param,
)
from pos.web.api.schemas import validate_body
from pos.web.api.schemas.parsing import parse_json
from pos.web.api.schemas.treatments import (
    AftercareSheetIn,
    ConsentFormIn,
    ConsentIn,
    QuestionnaireIn,
    TreatmentIn,
    TreatmentVoidIn,
)
from pos.web.api.schemas.types import path_text


def result_json(result: treatments.TreatmentResult) -> dict[str, Any]:
    return {
        "id": result.id, "purchase_id": result.purchase_id,
        "session_number": result.session_number, "sessions_left": result.sessions_left,
        "consumed": [{"sku": c.sku, "lot": c.lot, "quantity": c.quantity}
                     for c in result.consumed],
        "first_visit_bundle": result.first_visit_bundle, "off_rhythm": result.off_rhythm,
        "provider": result.provider,
        "next_eligible_on": result.next_eligible_on.isoformat() if result.next_eligible_on
        else None,
        "aftercare_emailed": result.aftercare_emailed,
    }


@api_bp.post("/v1/treatments")
@requires("provider")
@idempotent
@validate_body(TreatmentIn)
def create_treatment(body: TreatmentIn):  # type: ignore[no-untyped-def]
    result = treatments.perform_treatment(
        client_id=body.client_id, purchase_id=body.purchase_id, area=body.area,
        screening_raw=dict(body.screening),
        acknowledged_cautions=list(body.acknowledged_cautions or []),
        performed_at=body.performed_at, user_id=api_user().id,
        bundle_sku=current_settings().first_visit_bundle_sku, notes=body.notes,
        settings=None if body.settings is None else TreatmentSettings(
            body.settings.needle_depth_mm, body.settings.passes, body.settings.device),
        location_id=api_location_id())
    return jsonify(result_json(result)), 201


@api_bp.post("/v1/treatments/<int:treatment_id>/void")
@requires("provider")
@validate_body(TreatmentVoidIn)
def void(treatment_id: int, body: TreatmentVoidIn):  # type: ignore[no-untyped-def]
    """Void with a reason: the session goes back, every supply used is written off."""
    result = treatments.void_treatment(treatment_id, api_user().id, body.reason)
    return jsonify({
        "id": result.treatment_id, "purchase_id": result.purchase_id,
        "sessions_left": result.sessions_left, "reason": result.reason,
        "written_off": [{"sku": c.sku, "lot": c.lot, "quantity": c.quantity,
                         "reason": treatments.WASTE} for c in result.written_off],
    })


@api_bp.get("/v1/treatments/<int:treatment_id>/screening")
@requires("provider")
def screening(treatment_id: int):  # type: ignore[no-untyped-def]
    """The screening answers a treatment was recorded with: providers only, each read
    audited (the page's twin: /clients/<id>/treatments/<id>/screening)."""
    view = treatments.view_screening(treatment_id, api_user(), current_settings())
    return jsonify({"treatment_id": view.treatment_id, "client_id": view.client_id,
                    "performed_at": view.performed_at.isoformat(), "answers": view.answers,
                    "acknowledged_cautions": list(view.acknowledged_cautions),
                    "provider": view.provider, "notes": view.notes,
                    "settings": view.settings})


def questionnaire_json(in_force: questionnaire.InForce) -> dict[str, Any]:
    return {"version": in_force.version, "questions": in_force.questionnaire.to_json(),
            "reviewed": in_force.reviewed,
            "published_at": in_force.published_at.isoformat() if in_force.published_at
            else None}


@api_bp.get("/v1/screening/questionnaire")
@requires("provider")
def get_questionnaire():  # type: ignore[no-untyped-def]
    """The questionnaire in force (twin of the page /screening/questionnaire)."""
    return jsonify(questionnaire_json(questionnaire.in_force(db.session)))


@api_bp.post("/v1/screening/questionnaire")
@requires("provider+manager")
@idempotent
@validate_body(QuestionnaireIn)
def publish_questionnaire(body: QuestionnaireIn):  # type: ignore[no-untyped-def]
    published = questionnaire.publish([q.model_dump(exclude_none=True) for q in body.questions],
                                      api_user().id)
    return jsonify(questionnaire_json(published)), 201


def form_json(form: consent.FormInForce) -> dict[str, Any]:
    return {"version": form.version, "text": form.text, "reviewed": form.reviewed,
            "published_at": form.published_at.isoformat() if form.published_at else None}


def signed_json(signed: consent.SignedConsent) -> dict[str, Any]:
    return {"id": signed.id, "client_id": signed.client_id,
            "form_version": signed.form_version, "signed_at": signed.signed_at.isoformat(),
            "witness": signed.witness}


@api_bp.get("/v1/consent-form")
@requires("provider")
def get_consent_form():  # type: ignore[no-untyped-def]
    return jsonify(form_json(consent.form_in_force(db.session)))


@api_bp.post("/v1/consent-form")
@requires("provider+manager")
@idempotent
@validate_body(ConsentFormIn)
def publish_consent_form(body: ConsentFormIn):  # type: ignore[no-untyped-def]
    return jsonify(form_json(consent.publish_form(body.text, api_user().id))), 201


# One rule for both methods: with two rules, werkzeug answers an id too large for the
# database with 405 (from the other rule's method) instead of 404.
@api_bp.route("/v1/clients/<int:client_id>/consents", methods=["GET", "POST"])
@requires("provider")
def client_consents(client_id: int):  # type: ignore[no-untyped-def]
    """GET: the client's signed consents, newest first (providers only; the read is
    audited). POST: the client signed the form in force (the page's twin:
    /clients/<id>/consent)."""
    if request.method == "POST":
        return _sign_consent(client_id)
    return jsonify([signed_json(c) for c in
                    consent.consents_of(client_id, api_user(), current_settings())])


@idempotent
def _sign_consent(client_id: int):  # type: ignore[no-untyped-def]
    body = parse_json(ConsentIn)
    signed = consent.record_consent(client_id, body.form_version,
                                    decode_signature(body.signature_png_base64), api_user().id)
    return jsonify(signed_json(signed)), 201


def sheet_json(sheet: aftercare.Sheet) -> dict[str, Any]:
    return {"text": sheet.text, "is_default": sheet.is_default,
            "updated_at": sheet.updated_at.isoformat() if sheet.updated_at else None}


@api_bp.get("/v1/aftercare-sheet")
@requires("provider")
def get_aftercare_sheet():  # type: ignore[no-untyped-def]
    """The aftercare sheet emailed to clients after a treatment."""
    return jsonify(sheet_json(aftercare.sheet_in_force(db.session)))


@api_bp.post("/v1/aftercare-sheet")
@requires("provider+manager")
@idempotent
@validate_body(AftercareSheetIn)
def save_aftercare_sheet(body: AftercareSheetIn):  # type: ignore[no-untyped-def]
    return jsonify(sheet_json(aftercare.save_sheet(body.text, api_user().id))), 201


@api_bp.get("/v1/lots/<lot>/treatments")
@requires("manager")
def lot_treatments(lot: str):  # type: ignore[no-untyped-def]
    rows = treatments.recall(db.session, path_text(lot, "lot", 60))
    # No client name here: the recall list names clients by id; the page shows names.
    return jsonify([
        {"treatment_id": r.treatment_id, "client_id": r.client_id,
         "performed_at": r.performed_at.isoformat(), "sku": r.sku, "lot": r.lot,
         "quantity": r.quantity}
        for r in rows
    ])


NULLABLE_STR = {"type": ["string", "null"]}
CONSUMED = obj(["sku", "lot", "quantity"], sku=STR, lot=STR, quantity=INT)
WRITTEN_OFF = obj(["sku", "lot", "quantity", "reason"], sku=STR, lot=STR, quantity=INT,
                  reason=STR)

TREATMENT_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/treatments": {
        "post": op(
            "Perform a treatment: screen, redeem one session, consume supplies by lot",
            "provider",
            {**ok(obj(["id", "purchase_id", "session_number", "sessions_left", "consumed",
                       "first_visit_bundle"],
                      id=INT, purchase_id=INT, session_number=INT, sessions_left=INT,
                      consumed=array(CONSUMED), first_visit_bundle=BOOL, off_rhythm=BOOL,
                      provider=NULLABLE_STR, next_eligible_on=NULLABLE_STR,
                      aftercare_emailed=BOOL),
                  "201", "Created"),
             **errors(404, 409, 422)},
            body=TreatmentIn, idempotent=True, params=LOCATION_PARAMS),
    },
    "/api/v1/treatments/{treatment_id}/void": {
        "post": op(
            "Void a treatment with a reason: the session goes back to the package, every "
            "supply it used is written off as waste (same day: a provider; later: a "
            "provider who is also a manager)", "provider",
            {**ok(obj(["id", "purchase_id", "sessions_left", "reason", "written_off"],
                      id=INT, purchase_id=INT, sessions_left=INT, reason=STR,
                      written_off=array(WRITTEN_OFF))),
             **errors(404, 409, 422)},
            body=TreatmentVoidIn, params=[path_param("treatment_id", ID)]),
    },
    "/api/v1/treatments/{treatment_id}/screening": {
        "get": op(
            "The screening answers of a treatment (providers only; each read is audited)",
            "provider",
            {**ok(obj(["treatment_id", "client_id", "performed_at", "answers",
                       "acknowledged_cautions"],
                      treatment_id=INT, client_id=INT,
                      performed_at={"type": "string", "format": "date-time"},
                      answers={"type": "object"}, acknowledged_cautions=array(STR),
                      provider=NULLABLE_STR, notes=NULLABLE_STR,
                      settings={"type": ["object", "null"]})),
             **errors(404)},
            params=[path_param("treatment_id", ID)]),
    },
    "/api/v1/lots/{lot}/treatments": {
        "get": op(
            "Recall: every treatment that consumed this lot", "manager",
            {**ok(array(obj(["treatment_id", "client_id", "performed_at", "sku", "quantity"],
                            treatment_id=INT, client_id=INT,
                            performed_at={"type": "string", "format": "date-time"},
                            sku=STR, lot=STR, quantity=INT))),
             **errors(404)},
            params=[path_param("lot")]),
    },
}
QUESTION = obj(["key", "text", "type", "rule"], key=STR, text=STR,
               type={"type": "string", "enum": ["boolean", "date"]},
               rule={"type": "string",
                     "enum": ["contraindicated", "avoid_area", "caution", "wait_days"]},
               wait_days=INT)
QUESTIONNAIRE = obj(["version", "questions", "reviewed"], version=INT,
                    questions=array(QUESTION), reviewed=BOOL, published_at=NULLABLE_STR)
TREATMENT_PATHS["/api/v1/screening/questionnaire"] = {
    "get": op("The screening questionnaire in force (reviewed: false while it is the "
              "seeded template)", "provider", {**ok(QUESTIONNAIRE), **errors()}),
    "post": op("Publish a new version of the questionnaire (a provider who is also a "
               "manager)", "provider+manager",
               {**ok(QUESTIONNAIRE, "201", "Created"), **errors(409, 422)},
               body=QuestionnaireIn, idempotent=True),
}
CONSENT_FORM = obj(["version", "text", "reviewed"], version=INT, text=STR, reviewed=BOOL,
                   published_at=NULLABLE_STR)
SIGNED = obj(["id", "client_id", "form_version", "signed_at", "witness"], id=INT,
             client_id=INT, form_version=INT,
             signed_at={"type": "string", "format": "date-time"}, witness=NULLABLE_STR)
TREATMENT_PATHS["/api/v1/consent-form"] = {
    "get": op("The consent form in force (reviewed: false while it is the seeded template)",
              "provider", {**ok(CONSENT_FORM), **errors()}),
    "post": op("Publish a new version of the consent form (a provider who is also a "
               "manager); every client signs it again before a treatment",
               "provider+manager", {**ok(CONSENT_FORM, "201", "Created"), **errors(409, 422)},
               body=ConsentFormIn, idempotent=True),
}
TREATMENT_PATHS["/api/v1/clients/{client_id}/consents"] = {
    "post": op("The client signs the consent form in force (signature as a base64 PNG)",
               "provider", {**ok(SIGNED, "201", "Created"), **errors(404, 422)},
               body=ConsentIn, params=[path_param("client_id", ID)], idempotent=True),
    "get": op("The client's signed consents, newest first (each read audited)", "provider",
              {**ok(array(SIGNED)), **errors()}, params=[path_param("client_id", ID)]),
}
SHEET = obj(["text", "is_default"], text=STR, is_default=BOOL, updated_at=NULLABLE_STR)
TREATMENT_PATHS["/api/v1/aftercare-sheet"] = {
    "get": op("The aftercare sheet emailed after a treatment (is_default: the clinic has "
              "not written its own)", "provider", {**ok(SHEET), **errors()}),
    "post": op("Save the clinic's aftercare sheet (a provider who is also a manager)",
               "provider+manager", {**ok(SHEET, "201", "Created"), **errors(422)},
               body=AftercareSheetIn, idempotent=True),
}
PATH_GROUPS.append(TREATMENT_PATHS)

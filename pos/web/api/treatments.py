"""Treatments: redeem a session with its screening, void one the same day, recall by lot."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import jsonify

from pos.domain.screening import ALL_KEYS, BOOLEAN_KEYS, BOTOX_KEY
from pos.extensions import db
from pos.models.catalog import AREAS
from pos.services import treatments
from pos.web.api import api_bp, api_user, idempotent, requires
from pos.web.api.inputs import Body, json_body
from pos.web.api.openapi import (
    BOOL,
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

MAX_ID = 2**31 - 1


def _timestamp(body: Body, name: str) -> datetime | None:
    value = body.raw(name)
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None and parsed.utcoffset() is not None:
            try:
                return parsed.astimezone(UTC)
            except OverflowError:  # year 1 with a positive offset, say
                pass
    body.errors[name] = "must be an ISO 8601 timestamp with an offset"
    return None


def _acknowledged(body: Body) -> list[str]:
    value = body.raw("acknowledged_cautions")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        body.errors["acknowledged_cautions"] = "must be a list of condition keys"
        return []
    return value


def result_json(result: treatments.TreatmentResult) -> dict[str, Any]:
    return {
        "id": result.id, "purchase_id": result.purchase_id,
        "session_number": result.session_number, "sessions_left": result.sessions_left,
        "consumed": [{"sku": c.sku, "lot": c.lot, "quantity": c.quantity}
                     for c in result.consumed],
        "first_visit_bundle": result.first_visit_bundle, "off_rhythm": result.off_rhythm,
    }


@api_bp.post("/v1/treatments")
@requires("provider")
@idempotent
def create_treatment():  # type: ignore[no-untyped-def]
    body = json_body()
    client_id = body.integer("client_id", minimum=1, maximum=MAX_ID)
    purchase_id = body.integer("purchase_id", minimum=1, maximum=MAX_ID)
    area = body.choice("area", AREAS)
    acknowledged = _acknowledged(body)
    performed_at = _timestamp(body, "performed_at")
    body.finish()
    result = treatments.perform_treatment(
        client_id=client_id or 0, purchase_id=purchase_id or 0, area=area or "",
        screening_raw=body.raw("screening"), acknowledged_cautions=acknowledged,
        performed_at=performed_at, user_id=api_user().id)
    return jsonify(result_json(result)), 201


@api_bp.post("/v1/treatments/<int:treatment_id>/void")
@requires("manager")
def void(treatment_id: int):  # type: ignore[no-untyped-def]
    result = treatments.void_treatment(treatment_id, api_user().id)
    return jsonify({
        "id": result.treatment_id, "purchase_id": result.purchase_id,
        "sessions_left": result.sessions_left,
        "returned": [{"sku": c.sku, "lot": c.lot, "quantity": c.quantity}
                     for c in result.returned],
        "first_visit_bundle_returned": result.bundle_returned,
    })


@api_bp.get("/v1/lots/<lot>/treatments")
@requires("manager")
def lot_treatments(lot: str):  # type: ignore[no-untyped-def]
    rows = treatments.recall(db.session, lot[:60])
    # No client name here: the recall list names clients by id; the page shows names.
    return jsonify([
        {"treatment_id": r.treatment_id, "client_id": r.client_id,
         "performed_at": r.performed_at.isoformat(), "sku": r.sku, "lot": r.lot,
         "quantity": r.quantity}
        for r in rows
    ])


CONSUMED = obj(["sku", "lot", "quantity"], sku=STR, lot=STR, quantity=INT)
SCREENING = obj(list(ALL_KEYS), **{k: BOOL for k in BOOLEAN_KEYS},
                **{BOTOX_KEY: {"type": ["string", "null"], "format": "date"}})

TREATMENT_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/treatments": {
        "post": op(
            "Perform a treatment: screen, redeem one session, consume supplies by lot",
            "provider",
            {**ok(obj(["id", "purchase_id", "session_number", "sessions_left", "consumed",
                       "first_visit_bundle"],
                      id=INT, purchase_id=INT, session_number=INT, sessions_left=INT,
                      consumed=array(CONSUMED), first_visit_bundle=BOOL, off_rhythm=BOOL),
                  "201", "Created"),
             **errors(404, 409, 422)},
            body=obj(["client_id", "purchase_id", "area", "screening"],
                     client_id=INT, purchase_id=INT, area={"enum": list(AREAS)},
                     screening=SCREENING, acknowledged_cautions=array(STR),
                     performed_at={"type": "string", "format": "date-time"}),
            idempotent=True),
    },
    "/api/v1/treatments/{treatment_id}/void": {
        "post": op(
            "Void a treatment recorded by mistake, the same clinic day", "manager",
            {**ok(obj(["id", "purchase_id", "sessions_left", "returned",
                       "first_visit_bundle_returned"],
                      id=INT, purchase_id=INT, sessions_left=INT, returned=array(CONSUMED),
                      first_visit_bundle_returned=BOOL)),
             **errors(404, 409, 422)},
            params=[path_param("treatment_id", INT)]),
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
PATH_GROUPS.append(TREATMENT_PATHS)

"""Stripe Terminal (API.md "In-person and mixed payments"): card readers, and the reader
tender of a sale (retry after a decline, cancel while collecting)."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.extensions import db
from pos.services import terminal_readers
from pos.services.sales import cancelling
from pos.services.sales import terminal as sale_terminal
from pos.web import current_settings
from pos.web.api import api_bp, api_user, idempotent, requires
from pos.web.api.openapi import ID as ID_SCHEMA
from pos.web.api.openapi import (
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
from pos.web.api.sales import SALE, _known_id, _sale_response
from pos.web.api.schemas import validate_body
from pos.web.api.schemas.terminal import NewReaderIn


@api_bp.get("/v1/terminal/readers")
@requires("front_desk")
def list_readers():  # type: ignore[no-untyped-def]
    return jsonify([terminal_readers.reader_json(r) for r in terminal_readers.list_readers()])


@api_bp.post("/v1/terminal/readers")
@requires("manager")
@idempotent
@validate_body(NewReaderIn)
def register_reader(body: NewReaderIn):  # type: ignore[no-untyped-def]
    reader = terminal_readers.register_reader(body.registration_code.strip(),
                                              body.label.strip(), api_user().id,
                                              current_settings().currency)
    return jsonify(terminal_readers.reader_json(reader)), 201


@api_bp.post("/v1/sales/<int:sale_id>/terminal/retry")
@requires("front_desk")
def retry_terminal(sale_id: int):  # type: ignore[no-untyped-def]
    sale = sale_terminal.retry(_known_id(sale_id), api_user().id, current_settings().currency)
    return _sale_response(sale)


@api_bp.post("/v1/sales/<int:sale_id>/terminal/cancel")
@requires("front_desk")
def cancel_terminal(sale_id: int):  # type: ignore[no-untyped-def]
    sale = cancelling.cancel_sale(_known_id(sale_id), api_user().id)
    db.session.expire_all()
    return _sale_response(sale)


_NULL_STR = {"type": ["string", "null"]}
READER = obj(["id", "label", "reader_id", "location_id", "device_type", "status", "gateway"],
             id=INT, label=STR, reader_id=STR, location_id=INT, device_type=_NULL_STR,
             status=_NULL_STR, gateway=STR)
_SALE_ID = path_param("sale_id", ID_SCHEMA)

TERMINAL_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/terminal/readers": {
        "get": op("The clinic's card readers (Stripe Terminal)", "front_desk",
                  {**ok(array(READER))}),
        "post": op("Register a card reader with its registration code (test mode: "
                   "simulated-wpe); the location's Terminal Location is created once",
                   "manager", {**ok(READER, "201", "Created"), **errors(422, 503)},
                   body=NewReaderIn, idempotent=True),
    },
    "/api/v1/sales/{sale_id}/terminal/retry": {
        "post": op("Hand the sale's pending reader payment to its reader again (after a "
                   "decline, a busy or offline reader): the same PaymentIntent",
                   "front_desk", {**ok(SALE), **errors(404, 409)}, params=[_SALE_ID]),
    },
    "/api/v1/sales/{sale_id}/terminal/cancel": {
        "post": op("Stop collecting on the reader (cancel_action, the PaymentIntent "
                   "cancelled) and cancel the sale, its hold released", "front_desk",
                   {**ok(SALE), **errors(404, 409)}, params=[_SALE_ID]),
    },
}
PATH_GROUPS.append(TERMINAL_PATHS)

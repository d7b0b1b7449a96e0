"""Clients: create, search as you type, and one client with their package balances."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from pos.extensions import db
from pos.models import Client
from pos.services import clients, need_to_know
from pos.services.clients import ClientSummary
from pos.services.transaction import write_transaction
from pos.web import current_settings
from pos.web.api import api_bp, api_user, idempotent, requires
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
    query_params,
)
from pos.web.api.schemas import validate_body, validate_query
from pos.web.api.schemas.clients import NewClientIn
from pos.web.api.schemas.queries import ClientsQuery


def client_json(client: Client) -> dict[str, Any]:
    return {"id": client.id, "first_name": client.first_name, "last_name": client.last_name,
            "email": client.email, "phone": client.phone,
            "created_at": client.created_at.isoformat()}


def summary_json(summary: ClientSummary) -> dict[str, Any]:
    return {
        **client_json(summary.client),
        "packages": [
            {"purchase_id": p.purchase_id, "code": p.code, "name": p.name,
             "sessions_total": p.sessions_total, "sessions_used": p.sessions_used,
             "sessions_left": p.sessions_left,
             "next_eligible_on": p.next_eligible_on.isoformat() if p.next_eligible_on
             else None}
            for p in summary.packages
        ],
        "first_visit_bundle_given": summary.first_visit_bundle_given,
    }


@api_bp.post("/v1/clients")
@requires("front_desk")
@idempotent
@validate_body(NewClientIn)
def create_client(body: NewClientIn):  # type: ignore[no-untyped-def]
    client = clients.create_client(first_name=body.first_name, last_name=body.last_name,
                                   email=body.email, phone=body.phone, user_id=api_user().id)
    return jsonify(client_json(client)), 201


@api_bp.get("/v1/clients")
@requires("front_desk")
@validate_query(ClientsQuery)
def search_clients(query: ClientsQuery):  # type: ignore[no-untyped-def]
    found = clients.search_clients(db.session, query.q or "", query.limit)
    return jsonify([client_json(c) for c in found])


@api_bp.get("/v1/clients/<int:client_id>")
@requires("front_desk")
def get_client(client_id: int):  # type: ignore[no-untyped-def]
    summary = clients.client_summary(db.session, client_id)
    with write_transaction() as session:
        need_to_know.note_client_read(session, user_id=api_user().id, client_id=summary.client.id,
                                      settings=current_settings())
    return jsonify(summary_json(summary))


NULLABLE_STR = {"type": ["string", "null"]}
CLIENT = obj(["id", "first_name", "last_name", "email", "phone"],
             id=INT, first_name=STR, last_name=STR, email=NULLABLE_STR, phone=NULLABLE_STR,
             created_at={"type": "string", "format": "date-time"})
CLIENT_SUMMARY = {**CLIENT, "required": [*CLIENT["required"], "packages",
                                         "first_visit_bundle_given"],
                  "properties": {**CLIENT["properties"], "packages": array(obj(
                      ["purchase_id", "code", "sessions_total", "sessions_used",
                       "sessions_left", "next_eligible_on"],
                      purchase_id=INT, code=STR, name=STR, sessions_total=INT,
                      sessions_used=INT, sessions_left=INT,
                      next_eligible_on={"type": ["string", "null"], "format": "date"})),
                      "first_visit_bundle_given": BOOL}}

CLIENT_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/clients": {
        "post": op("Create a client (a duplicate email: 409 duplicate_client with "
                   "details.client_id)", "front_desk",
                   {**ok(CLIENT, "201", "Created"), **errors(409, 422)},
                   body=NewClientIn, idempotent=True),
        "get": op("Find clients by name, email or phone (no q: the newest clients)",
                  "front_desk", {**ok(array(CLIENT)), **errors()},
                  params=query_params(ClientsQuery)),
    },
    "/api/v1/clients/{client_id}": {
        "get": op("A client with their package balances", "front_desk",
                  {**ok(CLIENT_SUMMARY), **errors(404)},
                  params=[path_param("client_id", ID)]),
    },
}
PATH_GROUPS.append(CLIENT_PATHS)

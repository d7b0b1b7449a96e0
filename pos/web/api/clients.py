"""Clients: create, search as you type (a page of them), one client with their package
balances, change one, merge a duplicate into another.

`allergies` is clinical: it is in the answer only for a user holding provider, and each
answer that carries it is audited as a clinical read (pos/services/need_to_know.py). The
lists never carry it."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request

from pos.extensions import db
from pos.models import Client, User
from pos.services import client_merge, clients, credit, need_to_know
from pos.services.clients import ClientSummary
from pos.services.transaction import write_transaction
from pos.web import current_settings
from pos.web.api import api_bp, api_user, idempotent, page_json, requires
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
from pos.web.api.schemas.clients import ClientPatch, ClientsPageQuery, MergeIn, NewClientIn
from pos.web.api.schemas.parsing import parse_json


def client_json(client: Client, *, clinical: bool = False) -> dict[str, Any]:
    """The client; `clinical` adds allergies (the caller has checked provider and audits)."""
    body = {"id": client.id, "first_name": client.first_name, "last_name": client.last_name,
            "email": client.email, "phone": client.phone,
            "date_of_birth": client.date_of_birth.isoformat() if client.date_of_birth
            else None, "notes": client.notes,
            "created_at": client.created_at.isoformat()}
    if clinical:
        body["allergies"] = client.allergies
    return body


def _noted_read(user: User, client_id: int) -> bool:
    """Count the look at the client's record; for a provider, audit the clinical read of
    the allergies the answer carries. Whether the answer may carry them."""
    clinical = clients.may_see_clinical(user)
    with write_transaction() as session:
        need_to_know.note_client_read(session, user_id=user.id, client_id=client_id,
                                      settings=current_settings(),
                                      clinical="allergies" if clinical else None)
    return clinical


_known_id = client_merge.known_id


def summary_json(summary: ClientSummary, *, clinical: bool = False) -> dict[str, Any]:
    return {
        **client_json(summary.client, clinical=clinical),
        "packages": [
            {"purchase_id": p.purchase_id, "code": p.code, "name": p.name,
             "sessions_total": p.sessions_total, "sessions_used": p.sessions_used,
             "sessions_left": p.sessions_left,
             "next_eligible_on": p.next_eligible_on.isoformat() if p.next_eligible_on
             else None}
            for p in summary.packages
        ],
        "first_visit_bundle_given": summary.first_visit_bundle_given,
        "credit_cents": summary.credit_cents,
    }


@api_bp.post("/v1/clients")
@requires("front_desk")
@idempotent
@validate_body(NewClientIn)
def create_client(body: NewClientIn):  # type: ignore[no-untyped-def]
    user = api_user()
    client = clients.create_client(
        first_name=body.first_name, last_name=body.last_name, email=body.email,
        phone=body.phone, date_of_birth=body.date_of_birth, notes=body.notes,
        allergies=body.allergies, confirm_new=body.confirm_new, user_id=user.id, user=user)
    return jsonify(client_json(client, clinical=clients.may_see_clinical(user))), 201


@api_bp.get("/v1/clients")
@requires("front_desk")
@validate_query(ClientsPageQuery)
def search_clients(query: ClientsPageQuery):  # type: ignore[no-untyped-def]
    found, total = clients.list_clients(db.session, query.q or "", page=query.page,
                                        per_page=query.per_page)
    return page_json([client_json(c) for c in found], query.page, query.per_page, total)


# One rule for both methods: with two rules, werkzeug answers an id too large for the
# database with 405 (from the other rule's method) instead of 404.
@api_bp.route("/v1/clients/<int:client_id>", methods=["GET", "PATCH"])
@requires("front_desk")
def one_client(client_id: int):  # type: ignore[no-untyped-def]
    user = api_user()
    if request.method == "PATCH":
        body = parse_json(ClientPatch)
        clients.update_client(_known_id(client_id), body.changes(), user=user)
    summary = clients.client_summary(db.session, client_id)
    clinical = _noted_read(user, summary.client.id)
    return jsonify(summary_json(summary, clinical=clinical))


@api_bp.get("/v1/clients/<int:client_id>/credit")
@requires("front_desk")
def client_credit(client_id: int):  # type: ignore[no-untyped-def]
    client = clients.get_client(db.session, _known_id(client_id))
    return jsonify({
        "client_id": client.id, "credit_cents": credit.balance(db.session, client.id),
        "entries": [{"id": e.id, "created_at": e.created_at.isoformat(),
                     "amount_cents": e.amount_cents,
                     "balance_after_cents": e.balance_after_cents, "reason": e.reason,
                     "refund_id": e.refund_id, "sale_id": e.sale_id,
                     "payment_id": e.payment_id, "created_by": e.created_by}
                    for e in credit.history(db.session, client.id)]})


@api_bp.post("/v1/clients/<int:client_id>/merge")
@requires("manager")
@validate_body(MergeIn)
def merge_client(client_id: int, body: MergeIn):  # type: ignore[no-untyped-def]
    kept = client_merge.merge_clients(_known_id(client_id), body.into_id,
                                      user_id=api_user().id)
    summary = clients.client_summary(db.session, kept.id)
    return jsonify({**summary_json(summary), "merged_client_id": client_id})


NULLABLE_STR = {"type": ["string", "null"]}
CLIENT = obj(["id", "first_name", "last_name", "email", "phone"],
             id=INT, first_name=STR, last_name=STR, email=NULLABLE_STR, phone=NULLABLE_STR,
             date_of_birth={"type": ["string", "null"], "format": "date"},
             notes=NULLABLE_STR, allergies=NULLABLE_STR,
             created_at={"type": "string", "format": "date-time"})
CLIENT_PAGE = obj(["items", "page", "per_page", "total"], items=array(CLIENT), page=INT,
                  per_page=INT, total=INT)
CLIENT_SUMMARY = {**CLIENT, "required": [*CLIENT["required"], "packages",
                                         "first_visit_bundle_given", "credit_cents"],
                  "properties": {**CLIENT["properties"], "packages": array(obj(
                      ["purchase_id", "code", "sessions_total", "sessions_used",
                       "sessions_left", "next_eligible_on"],
                      purchase_id=INT, code=STR, name=STR, sessions_total=INT,
                      sessions_used=INT, sessions_left=INT,
                      next_eligible_on={"type": ["string", "null"], "format": "date"})),
                      "first_visit_bundle_given": BOOL, "credit_cents": INT}}
_NULL_INT = {"type": ["integer", "null"]}
CREDIT = obj(["client_id", "credit_cents", "entries"], client_id=INT, credit_cents=INT,
             entries=array(obj(
                 ["id", "created_at", "amount_cents", "balance_after_cents", "reason"],
                 id=INT, created_at={"type": "string", "format": "date-time"},
                 amount_cents=INT, balance_after_cents=INT, reason=STR,
                 refund_id=_NULL_INT, sale_id=_NULL_INT, payment_id=_NULL_INT,
                 created_by={"type": ["string", "null"]})))

MERGED = {**CLIENT_SUMMARY,
          "required": [*CLIENT_SUMMARY["required"], "merged_client_id"],
          "properties": {**CLIENT_SUMMARY["properties"], "merged_client_id": INT}}

CLIENT_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/clients": {
        "post": op("Create a client (same name and email or phone as a client: 409 "
                   "possible_duplicate with details.match, unless confirm_new; a duplicate "
                   "email: 409 duplicate_client; allergies without provider: 403)",
                   "front_desk",
                   {**ok(CLIENT, "201", "Created"), **errors(403, 409, 422)},
                   body=NewClientIn, idempotent=True),
        "get": op("Find clients by name, email or phone (no q: the newest clients), a page "
                  "at a time", "front_desk", {**ok(CLIENT_PAGE), **errors(422)},
                  params=query_params(ClientsPageQuery)),
    },
    "/api/v1/clients/{client_id}": {
        "get": op("A client with their package balances (allergies for a provider only, "
                  "audited)", "front_desk",
                  {**ok(CLIENT_SUMMARY), **errors(404)},
                  params=[path_param("client_id", ID)]),
        "patch": op("Change a client (allergies: provider only, else 403)", "front_desk",
                    {**ok(CLIENT_SUMMARY), **errors(403, 404, 409, 422)},
                    body=ClientPatch, params=[path_param("client_id", ID)]),
    },
    "/api/v1/clients/{client_id}/credit": {
        "get": op("A client's account credit and its history, newest first (refunds to "
                  "credit raise it, account_credit tenders spend it)", "front_desk",
                  {**ok(CREDIT), **errors(404)}, params=[path_param("client_id", ID)]),
    },
    "/api/v1/clients/{client_id}/merge": {
        "post": op("Merge this client into into_id: every sale, package, treatment and "
                   "record moves, this client is deleted (audited); merging into itself: "
                   "422 merge_into_self, into an unknown client: 422 unknown_client",
                   "manager", {**ok(MERGED), **errors(404, 422)},
                   body=MergeIn, params=[path_param("client_id", ID)]),
    },
}
PATH_GROUPS.append(CLIENT_PATHS)

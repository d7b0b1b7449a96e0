"""Staff accounts, their API tokens and the audit trail (API.md "Sign-in and sessions")."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from pos.domain.roles import sorted_roles
from pos.extensions import db
from pos.models import ApiToken, AuditEntry, User
from pos.services import accounts, audit, clock, locations
from pos.services.transaction import write_transaction
from pos.web import current_clinic, current_settings
from pos.web.api import api_bp, api_user, page_json, requires
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
from pos.web.api.schemas import parse_json, validate_body, validate_query
from pos.web.api.schemas.users import AuditQuery, NewTokenIn, NewUserIn, UserPatch


def set_password_url(secret: str) -> str:
    """The set-password page's address for an emailed link (PUBLIC_BASE_URL when set)."""
    path = url_for("accounts.set_password", token=secret)  # ?token=: kept out of the path
    base = current_settings().public_base_url or request.host_url
    return base.rstrip("/") + path


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name,
            "roles": [r.value for r in sorted_roles(user.roles)], "active": user.active,
            "created_at": user.created_at.isoformat(),
            "home_location_id": user.home_location_id}


def token_json(token: ApiToken) -> dict[str, Any]:
    # Never the token itself: only its digest is kept.
    return {"id": token.id, "user_id": token.user_id,
            "created_at": token.created_at.isoformat(),
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
            "status": accounts.token_state(token, clock.now())}


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at.isoformat(), "user_id": entry.user_id,
            "user_name": entry.user.name if entry.user is not None else None,
            "action": entry.action, "entity": entry.entity, "entity_id": entry.entity_id,
            "details": entry.details}


@api_bp.get("/v1/users")
@requires("admin")
def list_users():  # type: ignore[no-untyped-def]
    return jsonify([user_json(u) for u in accounts.list_users(db.session)])


@api_bp.post("/v1/users")
@requires("admin")
@validate_body(NewUserIn)
def invite_user(body: NewUserIn):  # type: ignore[no-untyped-def]
    with write_transaction() as session:
        user = accounts.invite_user(session, email=body.email, name=body.name,
                                    roles=body.roles, by_user_id=api_user().id,
                                    link_url=set_password_url)
        shown = user_json(user)
    return jsonify(shown), 201


@api_bp.patch("/v1/users/<int:user_id>")
@requires("admin")
@validate_body(UserPatch)
def patch_user(body: UserPatch, user_id: int):  # type: ignore[no-untyped-def]
    with write_transaction() as session:
        user = accounts.update_user(session, user_id, roles=body.roles, active=body.active,
                                    by_user_id=api_user().id)
        if body.home_location_id is not None:
            locations.assign_home(session, user, body.home_location_id, api_user().id)
        shown = user_json(user)
    return jsonify(shown)


@api_bp.post("/v1/users/<int:user_id>/password-reset")
@requires("admin")
def password_reset(user_id: int):  # type: ignore[no-untyped-def]
    with write_transaction() as session:
        user = accounts.send_password_reset(session, user_id, by_user_id=api_user().id,
                                            link_url=set_password_url)
        shown = {"user_id": user.id, "link_valid_hours": 24}
    return jsonify(shown), 202


# One rule for both methods: with two rules, werkzeug answers an id too large for the
# database with 405 (from the other rule's method) instead of 404.
@api_bp.route("/v1/users/<int:user_id>/tokens", methods=["GET", "POST"])
@requires("admin")
def user_tokens(user_id: int):  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return jsonify([token_json(t) for t in accounts.list_tokens(db.session, user_id)])
    body = parse_json(NewTokenIn)
    with write_transaction() as session:
        made = accounts.create_token(session, user_id, expires_on=body.expires_on,
                                     zone=current_clinic().zone, by_user_id=api_user().id)
        shown = {**token_json(made.token), "token": made.text}
    return jsonify(shown), 201


@api_bp.delete("/v1/tokens/<int:token_id>")
@requires("front_desk")  # anyone signed in: the service lets an admin, or the owner, revoke
def revoke_token(token_id: int):  # type: ignore[no-untyped-def]
    with write_transaction() as session:
        token = accounts.revoke_token(session, token_id, by_user=api_user())
        shown = token_json(token)
    return jsonify(shown)


@api_bp.get("/v1/audit")
@requires("admin")
@validate_query(AuditQuery)
def audit_trail(query: AuditQuery):  # type: ignore[no-untyped-def]
    wanted = audit.AuditFilter(user_id=query.user_id, action=query.action,
                               day_from=query.from_, day_to=query.to)
    rows, total = audit.list_entries(db.session, wanted, current_clinic().zone,
                                     page=query.page, per_page=query.per_page)
    return page_json([audit_json(e) for e in rows], query.page, query.per_page, total)


TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
USER = obj(["id", "email", "name", "roles", "active"], id=INT, email=STR, name=STR,
           roles=array(STR), active=BOOL, created_at=TIME,
           home_location_id={"type": ["integer", "null"]})
TOKEN = obj(["id", "user_id", "created_at", "expires_at", "revoked_at", "status"],
            id=INT, user_id=INT, created_at=TIME, expires_at=NULLABLE_TIME,
            revoked_at=NULLABLE_TIME, status=STR)
NEW_TOKEN = {**TOKEN, "required": [*TOKEN["required"], "token"],
             "properties": {**TOKEN["properties"], "token": STR}}
AUDIT_ENTRY = obj(["id", "at", "user_id", "action", "entity", "entity_id", "details"],
                  id=INT, at=TIME, user_id={"type": ["integer", "null"]},
                  user_name={"type": ["string", "null"]}, action=STR, entity=STR,
                  entity_id={"type": ["string", "null"]}, details={"type": "object"})
USER_ID = [path_param("user_id", ID)]

PATH_GROUPS.append({
    "/api/v1/users": {
        "get": op("Staff accounts", "admin", {**ok(array(USER))}),
        "post": op("Invite a user: emails a set-password link (24 h, single use)", "admin",
                   {**ok(USER, "201", "Created"), **errors(409, 422)}, body=NewUserIn),
    },
    "/api/v1/users/{user_id}": {
        "patch": op("Change a user's roles, active flag or home location (409 "
                    "cannot_deactivate_self, 409 last_admin)", "admin",
                    {**ok(USER), **errors(404, 409, 422)},
                    body=UserPatch, params=USER_ID),
    },
    "/api/v1/users/{user_id}/password-reset": {
        "post": op("Email the user a new set-password link", "admin",
                   {**ok(obj(["user_id", "link_valid_hours"], user_id=INT,
                             link_valid_hours=INT), "202", "Accepted"), **errors(404)},
                   params=USER_ID),
    },
    "/api/v1/users/{user_id}/tokens": {
        "get": op("The user's API tokens (never the token text)", "admin",
                  {**ok(array(TOKEN)), **errors(404)}, params=USER_ID),
        "post": op("A new API token for the user: its text is shown once", "admin",
                   {**ok(NEW_TOKEN, "201", "Created"), **errors(404, 422)},
                   body=NewTokenIn, params=USER_ID),
    },
    "/api/v1/tokens/{token_id}": {
        "delete": op("Revoke a token (an admin, or the token's owner)", "front_desk",
                     {**ok(TOKEN), **errors(404)}, params=[path_param("token_id", ID)]),
    },
    "/api/v1/audit": {
        "get": op("The audit trail, newest first: who, what, when (never health data)",
                  "admin", {**ok(obj(["items", "page", "per_page", "total"],
                                     items=array(AUDIT_ENTRY), page=INT, per_page=INT,
                                     total=INT)), **errors(422)},
                  params=query_params(AuditQuery)),
    },
})

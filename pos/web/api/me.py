"""The signed-in user's own password and PIN, and a provider's clients of the day: the API
twins of /me/password, /me/pin and /today."""
from __future__ import annotations

from flask import jsonify, request

from pos.extensions import db
from pos.services import clock, signin, today
from pos.web import current_clinic, current_settings
from pos.web.api import api_bp, api_user, requires
from pos.web.api.openapi import BOOL, DATE, INT, PATH_GROUPS, STR, array, errors, obj, ok, op
from pos.web.api.schemas import validate_body
from pos.web.api.schemas.me import PasswordChange, PinChange


@api_bp.post("/v1/me/password")
@requires("front_desk")
@validate_body(PasswordChange)
def change_my_password(body: PasswordChange):  # type: ignore[no-untyped-def]
    # A bearer token is no session: every signed-in browser of the user is signed out.
    ended = signin.change_password(api_user().id, body.current_password, body.new_password,
                                   request.remote_addr or "?", keep_key=None,
                                   settings=current_settings())
    return jsonify({"password_changed": True, "sessions_ended": ended})


@api_bp.put("/v1/me/pin")
@requires("front_desk")
@validate_body(PinChange)
def set_my_pin(body: PinChange):  # type: ignore[no-untyped-def]
    signin.set_pin(api_user().id, body.pin, body.current_password, request.remote_addr or "?",
                   settings=current_settings())
    return jsonify({"pin_set": True})


@api_bp.get("/v1/today")
@requires("provider")
def todays_clients():  # type: ignore[no-untyped-def]
    zone = current_clinic().zone
    lists = today.todays_clients(db.session(), clock.today(zone), zone)
    return jsonify({
        "date": lists.day.isoformat(),
        "seen": [{"client_id": c.client_id, "name": c.name, "sold_today": c.sold_today,
                  "treated_today": c.treated_today} for c in lists.seen],
        "due": [{"client_id": c.client_id, "name": c.name,
                 "due_since": c.due_since.isoformat() if c.due_since else None,
                 "packages": c.due_packages} for c in lists.due],
    })


_SEEN = obj(["client_id", "name", "sold_today", "treated_today"], client_id=INT, name=STR,
            sold_today=BOOL, treated_today=BOOL)
_DUE = obj(["client_id", "name", "due_since", "packages"], client_id=INT, name=STR,
           due_since=DATE, packages=array(STR))

PATH_GROUPS.append({
    "/api/v1/me/password": {
        "post": op("Change my password (signs out my browser sessions; tokens stay)",
                   "front_desk", {**ok(obj(["password_changed", "sessions_ended"],
                                           password_changed=BOOL, sessions_ended=INT)),
                                  **errors(422, 429)}, body=PasswordChange),
    },
    "/api/v1/me/pin": {
        "put": op("Set my PIN (4-8 digits) that unlocks an idle desk I signed in on",
                  "front_desk", {**ok(obj(["pin_set"], pin_set=BOOL)), **errors(422, 429)},
                  body=PinChange),
    },
    "/api/v1/today": {
        "get": op("Today's clients: sold to or treated today, and series due",
                  "provider", {**ok(obj(["date", "seen", "due"], date=DATE,
                                        seen=array(_SEEN), due=array(_DUE))),
                               **errors()}),
    },
})

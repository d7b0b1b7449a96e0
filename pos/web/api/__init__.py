"""The JSON API of ../shared/API.md: bearer tokens, roles, named errors, idempotent POSTs."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pos.extensions import csrf, db
from pos.models import IdempotencyRecord, User
from pos.services.staff import user_for_token
from pos.services.transaction import write_transaction
from pos.web import error_response

api_bp = Blueprint("api", __name__, url_prefix="/api")
# Bearer tokens are not sent by a browser on its own, so cross-site forgery cannot use them;
# the API accepts no session cookie at all.
csrf.exempt(api_bp)

PUBLIC_ENDPOINTS = {"api.openapi"}


@api_bp.before_request
def _authenticate():  # type: ignore[no-untyped-def]
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(db.session, token.strip()) if scheme.lower() == "bearer" and \
        token.strip() else None
    if user is None:
        response, status = error_response(401, "unauthorized",
                                          "A valid bearer token is required.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="pos"'
        return response, status
    g.api_user = user
    return None


def api_user() -> User:
    return g.api_user


def requires(minimum: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not api_user().has_role(minimum):
                return error_response(403, "forbidden",
                                      f"This needs the {minimum} role or above.")
            return view(*args, **kwargs)

        wrapped.minimum_role = minimum  # type: ignore[attr-defined]
        return wrapped

    return decorator


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Honour an `Idempotency-Key` header on a creating POST.

    The key is claimed in its own committed row before the work starts, so two requests
    with the same key racing each other cannot both create: the second waits on the unique
    constraint and then replays (or, if the first is still running, gets 409).
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return view(*args, **kwargs)
        if len(key) > 255:
            return error_response(422, "validation_error",
                                  "Idempotency-Key must be at most 255 characters.")
        user = api_user()
        body_hash = hashlib.sha256(request.get_data()).hexdigest()
        endpoint = request.endpoint or request.path
        record = _claim(user.id, endpoint, key, body_hash)
        if record is not None:
            return _replay(record, body_hash)
        try:
            response = view(*args, **kwargs)
        except Exception:
            _release(user.id, endpoint, key)
            raise
        response = _as_response(response)
        if response.status_code >= 500:
            _release(user.id, endpoint, key)
        else:
            _store(user.id, endpoint, key, response)
        return response

    return wrapped


def _as_response(value: Any) -> Response:
    from flask import current_app

    return current_app.make_response(value)


def _claim(user_id: int, endpoint: str, key: str, body_hash: str) -> IdempotencyRecord | None:
    """Claim the key; return the existing record if someone already did."""
    try:
        with write_transaction() as session:
            session.add(IdempotencyRecord(user_id=user_id, endpoint=endpoint, key=key,
                                          request_hash=body_hash, status_code=0, response={}))
        return None
    except IntegrityError:
        return db.session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.endpoint == endpoint,
            IdempotencyRecord.key == key))


def _replay(record: IdempotencyRecord, body_hash: str):  # type: ignore[no-untyped-def]
    if record.request_hash != body_hash:
        return error_response(422, "idempotency_key_reused",
                              "This Idempotency-Key was used with a different request body.")
    if record.status_code == 0:
        return error_response(409, "request_in_progress",
                              "A request with this Idempotency-Key is still being processed.")
    response = jsonify(record.response)
    response.status_code = record.status_code
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _store(user_id: int, endpoint: str, key: str, response: Response) -> None:
    body = json.loads(response.get_data() or b"{}")
    with write_transaction() as session:
        record = session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.endpoint == endpoint,
            IdempotencyRecord.key == key))
        if record is not None:
            record.status_code = response.status_code
            record.response = body


def _release(user_id: int, endpoint: str, key: str) -> None:
    db.session.rollback()
    with write_transaction() as session:
        record = session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.endpoint == endpoint,
            IdempotencyRecord.key == key))
        if record is not None:
            session.delete(record)


# Route modules register themselves on api_bp.
from pos.web.api import (  # noqa: E402,F401
    alerts,
    catalog,
    clients,
    openapi,
    reports,
    sales,
    treatments,
)

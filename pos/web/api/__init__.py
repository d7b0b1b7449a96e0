"""The JSON API of ../shared/API.md: bearer tokens, roles, named errors, idempotent POSTs."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, g, jsonify, request

from pos.domain.roles import requirement_text
from pos.extensions import csrf, db
from pos.models import User
from pos.services.staff import user_for_token
from pos.web import error_response
from pos.web.api.idempotency import idempotent

__all__ = ["api_bp", "api_user", "idempotent", "requires"]

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


def page_json(items: list[Any], page: int, per_page: int, total: int) -> Any:
    """A page of a list that grows (API.md "Conventions added")."""
    return jsonify({"items": items, "page": page, "per_page": per_page, "total": total})


def requires(minimum: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not api_user().has_role(minimum):
                return error_response(403, "forbidden", requirement_text(minimum))
            return view(*args, **kwargs)

        wrapped.minimum_role = minimum  # type: ignore[attr-defined]
        return wrapped

    return decorator


# Route modules register themselves on api_bp.
from pos.web.api import (  # noqa: E402,F401
    alerts,
    carts,
    catalog,
    clients,
    discounts,
    drawers,
    gift_cards,
    imports,
    locations,
    me,
    openapi,
    purchasing,
    reorder,
    reports,
    sales,
    settings,
    terminal,
    treatments,
    users,
)

"""Which desk a request comes from: a browser, named by its long-lived `desk_cart` cookie.

The cookie is random (32 bytes, URL-safe), HttpOnly and SameSite=Lax; it names a desk,
not a person (whoever signs in at that browser works at that desk). A missing or
malformed one is replaced, and the new value is set on the response.
"""
from __future__ import annotations

import re
import secrets

from flask import current_app, request
from werkzeug.wrappers import Response

DESK_COOKIE = "desk_cart"
DESK_COOKIE_MAX_AGE = 400 * 24 * 3600  # browsers cap a cookie's life at 400 days
_DESK_KEY = re.compile(r"[A-Za-z0-9_-]{32,64}")
_KEY, _NEW_KEY = "pos.desk_key", "pos.new_desk_key"


def desk_key() -> str:
    """This browser's desk key; a new one on its first visit."""
    # Kept on the request, not on `g`: tests run several requests in one app context.
    wsgi_env = request.environ
    if _KEY not in wsgi_env:
        key = request.cookies.get(DESK_COOKIE, "")
        if not _DESK_KEY.fullmatch(key):
            key = secrets.token_urlsafe(32)
            wsgi_env[_NEW_KEY] = key
        wsgi_env[_KEY] = key
    return wsgi_env[_KEY]


def set_desk_cookie(response: Response) -> Response:
    """An after-request hook: hand a new desk its key."""
    wsgi_env = request.environ
    key = wsgi_env.get(_NEW_KEY)
    if key is not None:
        response.set_cookie(DESK_COOKIE, key, max_age=DESK_COOKIE_MAX_AGE, httponly=True,
                            samesite="Lax",
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response

"""Who may open a page: a decorator per minimum role."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from pos.domain.roles import requirement_text


def role_required(minimum: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Anonymous users go to the login page; signed-in users without the role get 403."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(minimum):
                abort(403, f"Your roles do not allow this page. {requirement_text(minimum)}")
            return view(*args, **kwargs)

        wrapped.minimum_role = minimum  # type: ignore[attr-defined]  # read by the role-matrix test
        return wrapped

    return decorator

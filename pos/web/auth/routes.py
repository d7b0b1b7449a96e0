"""Signing in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from pos.services.staff import TooManyAttempts, authenticate
from pos.web import current_settings
from pos.web.auth.forms import LoginForm

auth_bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never an open redirect to another host. Browsers read a
    # backslash as a slash and drop tabs and newlines, so "/\\evil" or "/\t/evil" would be
    # "//evil" to them: any of those characters and it is not a path we follow.
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc \
            and not any(c == "\\" or c.isspace() or ord(c) < 32 for c in target):
        return target
    return url_for("stock.overview")


@auth_bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("stock.overview"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(
                form.email.data or "", form.password.data or "", request.remote_addr or "?",
                max_failures=current_settings().login_max_failures,
                window_seconds=current_settings().login_window_seconds,
            )
        except TooManyAttempts as error:
            form.password.errors = [error.message]
            status = 429
        else:
            if user is not None:
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
            form.password.errors = ["Email or password is not right."]
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@auth_bp.route("/logout", methods=["POST"])
@login_required
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    flash("Signed out.")
    return redirect(url_for("auth.login"))


@auth_bp.route("/")
def index():  # type: ignore[no-untyped-def]
    return redirect(url_for("stock.overview") if current_user.is_authenticated
                    else url_for("auth.login"))

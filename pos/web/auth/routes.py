"""Signing in (password, or PIN at an idle desk), out, and each user's own password and PIN."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from pos.domain.errors import PosError
from pos.domain.landing import Landing, landing_for
from pos.domain.statuses import SessionEndReason
from pos.extensions import db
from pos.services import clock, locations, signin
from pos.services import sessions as staff_sessions
from pos.services.throttle import TooManyAttempts
from pos.services.transaction import write_transaction
from pos.web import SESSION_KEY, current_settings
from pos.web.access import role_required
from pos.web.auth.forms import ChangePasswordForm, LoginForm, PinUnlockForm, SetPinForm

auth_bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = "Email or password is not right."
WRONG_PIN = "That PIN is not right, or you have not signed in on this desk today."

# The desk: a browser known by a random cookie set at a full sign-in. 400 days is the
# longest a browser keeps a cookie; who may unlock it is bounded by desk_membership_hours.
DESK_COOKIE = "desk"
DESK_COOKIE_SECONDS = 400 * 24 * 3600
_DESK_KEY = re.compile(r"[A-Za-z0-9_-]{32,64}")

LANDING_ENDPOINTS = {Landing.ALERTS: "alerts.index", Landing.TODAY: "today.index",
                     Landing.CHECKOUT: "desk.checkout"}


def landing_url(user) -> str:  # type: ignore[no-untyped-def]
    return url_for(LANDING_ENDPOINTS[landing_for(role.value for role in user.roles)])


def _safe_next(target: str | None, default: str) -> str:
    # Only a path on this site: never an open redirect to another host. Browsers read a
    # backslash as a slash and drop tabs and newlines, so "/\\evil" or "/\t/evil" would be
    # "//evil" to them: any of those characters and it is not a path we follow.
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc \
            and not any(c == "\\" or c.isspace() or ord(c) < 32 for c in target):
        return target
    return default


def _client_address() -> str:
    # ProxyFix has set it from X-Forwarded-For when TRUSTED_PROXIES says to (pos/__init__.py).
    return request.remote_addr or "?"


def desk_key() -> str | None:
    key = request.cookies.get(DESK_COOKIE, "")
    return key if _DESK_KEY.fullmatch(key) else None


def _begin(signed: signin.SignedIn, desk: str):  # type: ignore[no-untyped-def]
    """Start the browser on its new session: a fresh cookie (no fixation), the desk cookie,
    and the page asked for or the user's landing page."""
    previous = session.get(SESSION_KEY)
    if isinstance(previous, str) and previous:
        # Someone else unlocking a desk ends whoever was signed in on it.
        with write_transaction() as writing:
            staff_sessions.end_session(writing, previous, SessionEndReason.SIGNED_OUT,
                                       clock.now())
    session.clear()
    session[SESSION_KEY] = signed.session_key
    response = redirect(_safe_next(request.args.get("next"), landing_url(signed.user)))
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    response.set_cookie(DESK_COOKIE, desk, max_age=DESK_COOKIE_SECONDS, httponly=True,
                        samesite="Lax", secure=secure)
    return response


def _render_login(form: LoginForm, pin_form: PinUnlockForm, status: int):  # type: ignore[no-untyped-def]
    members = staff_sessions.desk_members(
        db.session(), desk_key(), now=clock.now(),
        membership_hours=current_settings().desk_membership_hours)
    pin_form.user_id.choices = [(m.user_id, m.name) for m in members]
    places = locations.list_locations(db.session) if locations.several(db.session) else []
    form.location.choices = [(0, "My home location"), *((p.id, p.name) for p in places)]
    return render_template("auth/login.html", form=form, pin_form=pin_form,
                           desk_members=members, places=places), status


@auth_bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        desk = desk_key() or staff_sessions.new_key()
        try:
            signed = signin.sign_in_with_password(
                form.email.data or "", form.password.data or "", _client_address(),
                desk_key=desk, settings=current_settings(),
                location_id=form.location.data or None)
        except TooManyAttempts as error:
            form.password.errors = [error.message]
            status = 429
        else:
            if signed is not None:
                return _begin(signed, desk)
            form.password.errors = [WRONG_CREDENTIALS]
            status = 401
    elif request.method == "POST":
        status = 400
    return _render_login(form, PinUnlockForm(formdata=None), status)


@auth_bp.post("/login/pin")
def login_pin():  # type: ignore[no-untyped-def]
    form = PinUnlockForm()
    desk = desk_key()
    status = 400
    if form.validate_on_submit():
        try:
            signed = signin.unlock_with_pin(form.user_id.data, form.pin.data or "",
                                            _client_address(), desk_key=desk,
                                            settings=current_settings())
        except TooManyAttempts as error:
            form.pin.errors = [error.message]
            status = 429
        else:
            if signed is not None and desk is not None:
                return _begin(signed, desk)
            form.pin.errors = [WRONG_PIN]
            status = 401
    return _render_login(LoginForm(formdata=None), form, status)


@auth_bp.route("/logout", methods=["POST"])
@login_required
def logout():  # type: ignore[no-untyped-def]
    key = session.get(SESSION_KEY)
    if isinstance(key, str):
        with write_transaction() as writing:
            staff_sessions.end_session(writing, key, SessionEndReason.SIGNED_OUT, clock.now())
    session.clear()
    flash("Signed out.")
    return redirect(url_for("auth.login"))


@auth_bp.route("/")
def index():  # type: ignore[no-untyped-def]
    return redirect(landing_url(current_user) if current_user.is_authenticated
                    else url_for("auth.login"))


@auth_bp.route("/me/password", methods=["GET", "POST"])
@role_required("front_desk")
def change_password():  # type: ignore[no-untyped-def]
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            ended = signin.change_password(
                current_user.id, form.current_password.data or "", form.new_password.data or "",
                _client_address(), keep_key=session.get(SESSION_KEY),
                settings=current_settings())
        except PosError as error:
            target = form.new_password if error.code == "validation_error" \
                else form.current_password
            target.errors = [error.message]
            status = 429 if isinstance(error, TooManyAttempts) else 422
        else:
            flash(f"Password changed. Signed out everywhere else ({ended} "
                  f"session{'' if ended == 1 else 's'}).")
            return redirect(url_for("auth.change_password"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/change_password.html", form=form), status


@auth_bp.route("/me/pin", methods=["GET", "POST"])
@role_required("front_desk")
def set_pin():  # type: ignore[no-untyped-def]
    form = SetPinForm()
    status = 200
    if form.validate_on_submit():
        try:
            signin.set_pin(current_user.id, form.pin.data or "",
                           form.current_password.data or "", _client_address(),
                           settings=current_settings())
        except PosError as error:
            target = form.pin if error.code == "validation_error" else form.current_password
            target.errors = [error.message]
            status = 429 if isinstance(error, TooManyAttempts) else 422
        else:
            flash("PIN set. Use it to unlock this desk when it locks.")
            return redirect(url_for("auth.set_pin"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/set_pin.html", form=form,
                           has_pin=signin.has_pin(db.session(), current_user.id)), status

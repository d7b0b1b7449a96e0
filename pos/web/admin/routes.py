"""The admin's desk: staff accounts (invite, roles, deactivate, reset, tokens) and the
audit trail; and the set-password page an emailed link opens (no sign-in)."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pos.domain.errors import PosError
from pos.domain.limits import MAX_ID
from pos.extensions import db
from pos.models import ApiToken, User
from pos.services import accounts, audit, clock
from pos.services.clinic import update_clinic_settings
from pos.services.transaction import write_transaction
from pos.web import current_clinic, current_settings
from pos.web.access import role_required
from pos.web.admin.forms import (
    ActionForm,
    AuditFilterForm,
    ClinicSettingsForm,
    InviteForm,
    RolesForm,
    SetPasswordForm,
    TokenForm,
)
from pos.web.api.users import set_password_url

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")
accounts_bp = Blueprint("accounts", __name__)

AUDIT_PER_PAGE = 50


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        abort(404, "No such user.")
    return user


@admin_bp.route("/users", methods=["GET", "POST"])
@role_required("admin")
def users():  # type: ignore[no-untyped-def]
    form = InviteForm()
    status = 200
    if form.validate_on_submit():
        try:
            with write_transaction() as session:
                user = accounts.invite_user(
                    session, email=form.email.data or "", name=form.name.data or "",
                    roles=form.roles.data or [], by_user_id=current_user.id,
                    link_url=set_password_url)
                shown = user.email
        except PosError as error:
            form.email.errors = [error.message]
            status = error.status
        else:
            flash(f"{shown} is invited: a set-password link is on its way (valid 24 hours).")
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        status = 422
    return render_template("admin/users.html", form=form,
                           users=accounts.list_users(db.session)), status


def _user_page(user: User, *, roles_form: RolesForm | None = None,
               token_form: TokenForm | None = None, new_token: str | None = None,
               status: int = 200):  # type: ignore[no-untyped-def]
    roles_form = roles_form or RolesForm(formdata=None, roles=[r.value for r in user.roles])
    now = clock.now()
    tokens = [(t, accounts.token_state(t, now)) for t in accounts.list_tokens(db.session,
                                                                               user.id)]
    return render_template("admin/user.html", user=user, roles_form=roles_form,
                           token_form=token_form or TokenForm(formdata=None),
                           action_form=ActionForm(), tokens=tokens, new_token=new_token,
                           is_self=user.id == current_user.id), status


@admin_bp.get("/users/<int:user_id>")
@role_required("admin")
def user(user_id: int):  # type: ignore[no-untyped-def]
    return _user_page(_user_or_404(user_id))


def _change(user_id: int, done: str, **change: object):  # type: ignore[no-untyped-def]
    try:
        with write_transaction() as session:
            accounts.update_user(session, user_id, by_user_id=current_user.id,
                                 **change)  # type: ignore[arg-type]
    except PosError as error:
        flash(f"Not changed: {error.message}")
    else:
        flash(done)
    return redirect(url_for("admin.user", user_id=user_id))


@admin_bp.post("/users/<int:user_id>/roles")
@role_required("admin")
def user_roles(user_id: int):  # type: ignore[no-untyped-def]
    target = _user_or_404(user_id)
    form = RolesForm()
    if not form.validate_on_submit():
        return _user_page(target, roles_form=form, status=422)
    return _change(target.id, "Roles saved.", roles=form.roles.data)


@admin_bp.post("/users/<int:user_id>/deactivate")
@role_required("admin")
def deactivate(user_id: int):  # type: ignore[no-untyped-def]
    target = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400, "The form had expired. Reload the page and try again.")
    return _change(target.id, f"{target.name} is deactivated: their sessions and tokens "
                   "stop now.", active=False)


@admin_bp.post("/users/<int:user_id>/reactivate")
@role_required("admin")
def reactivate(user_id: int):  # type: ignore[no-untyped-def]
    target = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400, "The form had expired. Reload the page and try again.")
    return _change(target.id, f"{target.name} is active again.", active=True)


@admin_bp.post("/users/<int:user_id>/password-reset")
@role_required("admin")
def password_reset(user_id: int):  # type: ignore[no-untyped-def]
    target = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400, "The form had expired. Reload the page and try again.")
    with write_transaction() as session:
        accounts.send_password_reset(session, target.id, by_user_id=current_user.id,
                                     link_url=set_password_url)
    flash("A set-password link is on its way to the user (valid 24 hours).")
    return redirect(url_for("admin.user", user_id=user_id))


@admin_bp.post("/users/<int:user_id>/tokens")
@role_required("admin")
def create_token(user_id: int):  # type: ignore[no-untyped-def]
    target = _user_or_404(user_id)
    form = TokenForm()
    if not form.validate_on_submit():
        return _user_page(target, token_form=form, status=422)
    try:
        with write_transaction() as session:
            made = accounts.create_token(session, target.id, expires_on=form.expires_on.data,
                                         zone=current_clinic().zone,
                                         by_user_id=current_user.id)
            text = made.text
    except PosError as error:
        form.expires_on.errors = [error.message]
        return _user_page(target, token_form=form, status=error.status)
    # Shown on this answer only: only its digest is kept, so it cannot be shown again.
    return _user_page(_user_or_404(user_id), new_token=text, status=201)


@admin_bp.post("/tokens/<int:token_id>/revoke")
@role_required("admin")
def revoke_token(token_id: int):  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        abort(400, "The form had expired. Reload the page and try again.")
    try:
        with write_transaction() as session:
            token: ApiToken = accounts.revoke_token(session, token_id, by_user=current_user)
            owner_id = token.user_id
    except PosError as error:
        abort(error.status, error.message)
    flash(f"Token {token_id} is revoked.")
    return redirect(url_for("admin.user", user_id=owner_id))


@admin_bp.get("/audit")
@role_required("admin")
def audit_trail():  # type: ignore[no-untyped-def]
    form = AuditFilterForm(request.args)
    entries: list = []
    total = 0
    page = 1
    if form.validate():
        page = form.page.data or 1
        wanted = audit.AuditFilter(user_id=form.user_id.data, action=form.action.data or None,
                                   day_from=form.from_.data, day_to=form.to.data)
        entries, total = audit.list_entries(db.session, wanted, current_clinic().zone,
                                            page=page, per_page=AUDIT_PER_PAGE)
    pages = max(1, -(-total // AUDIT_PER_PAGE))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/audit.html", form=form, entries=entries, total=total,
                           page=page, pages=pages, args=args), 200 if not form.errors else 422


@admin_bp.route("/settings", methods=["GET", "POST"])
@role_required("admin")
def settings():  # type: ignore[no-untyped-def]
    """The clinic's settings (API twin: GET/PATCH /api/v1/settings)."""
    clinic = current_clinic()
    form = ClinicSettingsForm()
    status = 200
    if form.validate_on_submit():
        changes = {name: getattr(form, name).data or "" for name in
                   ("clinic_name", "address", "phone", "tax_id", "receipt_footer", "timezone")}
        changes["tax_rate_bp"] = int(form.tax_rate.data * 100)
        try:
            with write_transaction() as session:
                update_clinic_settings(session, changes, current_user.id)
        except PosError as error:
            for name, problem in (error.details.get("fields") or {}).items():
                field = getattr(form, "tax_rate" if name == "tax_rate_bp" else name, None)
                if field is not None:
                    field.errors = [*field.errors, f"{field.label.text}: {problem}."]
            status = error.status
        else:
            flash("Settings saved.")
            return redirect(url_for("admin.settings"))
    elif form.is_submitted():
        status = 422
    else:
        for name in ("clinic_name", "address", "phone", "tax_id", "receipt_footer",
                     "timezone"):
            getattr(form, name).data = getattr(clinic, name)
        form.tax_rate.data = Decimal(clinic.tax_rate_bp) / 100
    return render_template("admin/settings.html", form=form,
                           currency=current_settings().currency), status


@accounts_bp.route("/set-password", methods=["GET", "POST"])
def set_password():  # type: ignore[no-untyped-def]
    # The link's secret rides in the query string, then in the form's hidden field: never in
    # the path, which the access log records.
    form = SetPasswordForm(token=request.args.get("token", ""))
    secret = (form.token.data or "")[:100]
    if not secret or not accounts.link_is_usable(db.session, secret):
        return render_template("admin/set_password.html", form=None), 410
    if form.validate_on_submit():
        try:
            with write_transaction() as session:
                accounts.set_password_with_link(session, secret, form.password.data or "")
        except PosError as error:
            form.password.errors = [error.message]
            return render_template("admin/set_password.html", form=form), error.status
        flash("Your password is set. Sign in with it.")
        return redirect(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/set_password.html", form=form), status

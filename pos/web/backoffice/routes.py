"""The Discount codes page (list, create, deactivate) and the Import page (upload a CSV,
check it, import it) [manager]. Their API twins: pos/web/api/discounts.py (PATCH
`{active}` deactivates) and pos/web/api/imports.py."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pos.domain.errors import PosError
from pos.extensions import db
from pos.services import discounts, imports
from pos.web.access import role_required
from pos.web.api.schemas import imports as rows
from pos.web.backoffice.forms import ActiveForm, DiscountCodeForm, ImportForm

backoffice_bp = Blueprint("backoffice", __name__, url_prefix="/backoffice")

PER_PAGE = 50


def _page() -> int:
    text = request.args.get("page", "1")
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= 10_000 else 1


def _render_codes(form: DiscountCodeForm, status: int = 200,
                  error: str | None = None):  # type: ignore[no-untyped-def]
    page = _page()
    codes, total = discounts.list_codes(db.session, page=page, per_page=PER_PAGE)
    return render_template("backoffice/discount_codes.html", form=form, codes=codes,
                           page=page, pages=max(1, -(-total // PER_PAGE)),
                           active_form=ActiveForm(prefix="active"), error=error,
                           api_value=discounts.api_value), status


@backoffice_bp.get("/discount-codes")
@role_required("manager")
def discount_codes():  # type: ignore[no-untyped-def]
    return _render_codes(DiscountCodeForm(formdata=None))


@backoffice_bp.post("/discount-codes")
@role_required("manager")
def create_discount_code():  # type: ignore[no-untyped-def]
    form = DiscountCodeForm()
    if not form.validate_on_submit() or form.amount is None:
        return _render_codes(form, 422)
    try:
        code = discounts.create_code(discounts.NewDiscountCode(
            code=form.code.data or "", kind=form.kind.data or "", value=form.amount,
            starts_on=form.starts_on.data, ends_on=form.ends_on.data,
            max_uses=form.max_uses.data), current_user.id)
    except PosError as error:
        db.session.rollback()
        fields = error.details.get("fields") or {}
        target = form.ends_on if "ends_on" in fields else form.code
        target.errors = [*target.errors, error.message]
        return _render_codes(form, error.status)
    flash(f"Discount code {code.code} created.")
    return redirect(url_for("backoffice.discount_codes"))


@backoffice_bp.post("/discount-codes/<int:code_id>/active")
@role_required("manager")
def set_code_active(code_id: int):  # type: ignore[no-untyped-def]
    form = ActiveForm(prefix="active")
    if not form.validate_on_submit():
        return _render_codes(DiscountCodeForm(formdata=None), 400,
                             "The form expired: try again.")
    try:
        code = discounts.set_active(code_id, form.active.data == "1", current_user.id)
    except PosError as error:
        db.session.rollback()
        return _render_codes(DiscountCodeForm(formdata=None), error.status, error.message)
    flash(f"Discount code {code.code} {'reactivated' if code.active else 'deactivated'}.")
    return redirect(url_for("backoffice.discount_codes"))


# -- importing from CSV ----------------------------------------------------------------------

@backoffice_bp.get("/import")
@role_required("manager")
def import_page():  # type: ignore[no-untyped-def]
    return render_template("backoffice/import.html", form=ImportForm(formdata=None),
                           result=None, problems=None, columns=_columns())


def _columns() -> dict[str, str]:
    return {"items": ", ".join(rows.ITEM_COLUMNS), "clients": "name (or first_name, "
            "last_name), email, phone"}


@backoffice_bp.post("/import")
@role_required("manager")
def run_import():  # type: ignore[no-untyped-def]
    form = ImportForm()
    result: Any = None
    problems: Any = None
    status = 200
    if not form.validate_on_submit():
        status = 422
    else:
        dry_run = not form.run.data
        try:
            text = form.file.data.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.file.errors = ["The file must be UTF-8 CSV text."]
            status = 422
        else:
            try:
                if form.kind.data == "clients":
                    result = imports.import_clients(rows.client_rows(text), dry_run=dry_run,
                                                    user_id=current_user.id)
                else:
                    result = imports.import_items(rows.item_rows(text), dry_run=dry_run,
                                                  user_id=current_user.id)
            except imports.ImportInvalid as error:
                db.session.rollback()
                problems = {"message": error.message, **error.details}
                status = 422
            except PosError as error:
                db.session.rollback()
                form.file.errors = [error.message]
                status = error.status
    return render_template("backoffice/import.html", form=form, result=result,
                           problems=problems, columns=_columns()), status

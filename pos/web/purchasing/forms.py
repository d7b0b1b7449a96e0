"""The purchasing desk's forms. The rules are the API's (pos.web.api.schemas.purchasing)."""
from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from pos.domain.limits import MAX_QUANTITY
from pos.web.api.schemas.users import EMAIL_PATTERN
from pos.web.form_rules import SafeText, strip
from pos.web.stock.forms import MoneyField


class SupplierForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), SafeText(120)], filters=[strip])
    email = StringField("Order email", validators=[
        DataRequired(), SafeText(254), Regexp(EMAIL_PATTERN, message="Not an email address.")],
        filters=[strip])
    lead_time_days = IntegerField("Lead time (days)", validators=[
        InputRequired(), NumberRange(min=0, max=365)])
    minimum_order = MoneyField("Minimum order ($, empty: none)",
                               validators=[Optional(), Length(max=20)])
    submit = SubmitField("Add supplier")


class NewOrderForm(FlaskForm):
    supplier = SelectField("Supplier", coerce=int, validators=[DataRequired()], choices=[])
    submit = SubmitField("Create draft")


def order_lines_form(base: type[FlaskForm], rows: Sequence[tuple[str, str, int, str]]
                     ) -> type[FlaskForm]:
    """One quantity (0: not ordered) and unit cost per (sku, label, quantity, cost text)."""

    class WithLines(base):  # type: ignore[valid-type,misc]
        pass

    for index, (_sku, label, quantity, cost) in enumerate(rows):
        setattr(WithLines, f"qty_{index}", IntegerField(
            f"{label}: quantity", default=quantity,
            validators=[InputRequired(message="Enter a quantity (0: not ordered)."),
                        NumberRange(min=0, max=MAX_QUANTITY)]))
        setattr(WithLines, f"cost_{index}", MoneyField(
            f"{label}: unit cost ($)", default=cost,
            validators=[DataRequired(), Length(max=20)]))
    return WithLines


class EditOrderForm(FlaskForm):
    submit = SubmitField("Save draft")


class ReceiveForm(FlaskForm):
    submit = SubmitField("Receive")


def receive_form(rows: Sequence[tuple[int, str, int]]) -> type[FlaskForm]:
    """Per order line (index, label, still due): quantity, lot and expiry."""

    class WithLines(ReceiveForm):
        pass

    for index, label, due in rows:
        setattr(WithLines, f"qty_{index}", IntegerField(
            f"{label}: quantity received", default=0,
            validators=[InputRequired(message="Enter a quantity (0: none arrived)."),
                        NumberRange(min=0, max=max(due, 0),
                                    message=f"At most {due} (still due).")]))
        setattr(WithLines, f"lot_{index}", StringField(
            f"{label}: lot", validators=[Optional(), SafeText(60)], filters=[strip]))
        setattr(WithLines, f"expires_{index}", DateField(
            f"{label}: expires on", validators=[Optional()]))
    return WithLines


class ActionForm(FlaskForm):
    """A button that posts (send, cancel, draft from the reorder list): CSRF only."""


class CountForm(FlaskForm):
    note = StringField("Note (needed when a lot is off by more than 5 and 20 %)",
                       validators=[Optional(), SafeText(500)], filters=[strip])
    submit = SubmitField("Record count")


def count_form(rows: Sequence[tuple[int, str, int]]) -> type[FlaskForm]:
    """One counted number per (index, label, on hand)."""

    class WithLines(CountForm):
        pass

    for index, label, on_hand in rows:
        setattr(WithLines, f"counted_{index}", IntegerField(
            f"{label}: counted", default=on_hand,
            validators=[InputRequired(message="Enter the number counted."),
                        NumberRange(min=0, max=MAX_QUANTITY)]))
    return WithLines


class LotExpiryForm(FlaskForm):
    expires_on = DateField("Correct expiry", validators=[DataRequired()])
    reason = StringField("Reason", validators=[DataRequired(), SafeText(500)],
                         filters=[strip])
    submit = SubmitField("Correct expiry")

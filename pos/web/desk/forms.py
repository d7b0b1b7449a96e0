from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from pos.domain.errors import PosError
from pos.services import clients
from pos.web.stock.forms import MoneyField


class NewClientForm(FlaskForm):
    first_name = StringField("First name", validators=[
        DataRequired("A first name is required."), Length(max=clients.MAX_NAME)])
    last_name = StringField("Last name", validators=[
        DataRequired("A last name is required."), Length(max=clients.MAX_NAME)])
    email = StringField("Email", validators=[Optional(), Length(max=clients.MAX_EMAIL)])
    phone = StringField("Phone", validators=[Optional(), Length(max=clients.MAX_PHONE)])
    submit = SubmitField("Create client")

    def validate_first_name(self, field: StringField) -> None:
        _no_control_characters(field)

    def validate_last_name(self, field: StringField) -> None:
        _no_control_characters(field)

    def validate_email(self, field: StringField) -> None:
        try:
            field.data = clients.checked_email(field.data)
        except PosError as error:
            raise ValidationError(error.message) from None

    def validate_phone(self, field: StringField) -> None:
        try:
            field.data = clients.checked_phone(field.data)
        except PosError as error:
            raise ValidationError(error.message) from None


def _no_control_characters(field: StringField) -> None:
    if field.data and any(ord(c) < 32 for c in field.data):
        raise ValidationError("Control characters are not allowed.")


class RefundForm(FlaskForm):
    """The quantities per line come as `qty-<line id>` fields next to each line."""

    restock = BooleanField("Put retail items back into stock", default=True)
    reason = StringField("Reason", validators=[
        DataRequired("Say why the sale is refunded."), Length(max=500)])
    submit = SubmitField("Refund")


class OpeningFloatForm(FlaskForm):
    opening_float = MoneyField("Opening float ($)", validators=[
        DataRequired("Type the cash the drawer started with."), Length(max=20)])
    submit = SubmitField("Save opening float")


class CloseDayForm(FlaskForm):
    opening_float = MoneyField("Opening float ($)", validators=[
        DataRequired("Type the cash the drawer started with."), Length(max=20)])
    counted = MoneyField("Counted cash ($)", validators=[
        DataRequired("Type the cash counted in the drawer."), Length(max=20)])
    submit = SubmitField("Close the day")

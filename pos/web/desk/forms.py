from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import DataRequired, Optional, ValidationError

from pos.domain.errors import PosError
from pos.services import clients
from pos.web.form_rules import SafeText, strip


class NewClientForm(FlaskForm):
    first_name = StringField("First name", validators=[
        DataRequired("A first name is required."), SafeText(clients.MAX_NAME)],
        filters=[strip])
    last_name = StringField("Last name", validators=[
        DataRequired("A last name is required."), SafeText(clients.MAX_NAME)],
        filters=[strip])
    email = StringField("Email", validators=[Optional(), SafeText(clients.MAX_EMAIL)],
                        filters=[strip])
    phone = StringField("Phone", validators=[Optional(), SafeText(clients.MAX_PHONE)],
                        filters=[strip])
    submit = SubmitField("Create client")

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


class RefundForm(FlaskForm):
    """The quantities per line come as `qty-<line id>` fields next to each line."""

    restock = BooleanField("Put retail items back into stock", default=True)
    reason = StringField("Reason", validators=[
        DataRequired("Say why the sale is refunded."), SafeText(500)], filters=[strip])
    submit = SubmitField("Refund")


from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError

from pos.domain.errors import PosError
from pos.domain.limits import MAX_DATE, MAX_ID, MIN_DATE
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
    # After a possible-duplicate warning: create this client all the same.
    create_anyway = SubmitField("Create anyway")

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


def _in_range(form: FlaskForm, field: DateField) -> None:
    if field.data is not None and not MIN_DATE <= field.data <= MAX_DATE:
        raise ValidationError(f"Choose a date between {MIN_DATE} and {MAX_DATE}.")


class ClientEditForm(NewClientForm):
    """The client's details; the page removes `allergies` for a user without provider."""

    date_of_birth = DateField("Date of birth", validators=[Optional(), _in_range])
    notes = TextAreaField("Notes (front desk)", validators=[
        Optional(), SafeText(clients.MAX_NOTES, multiline=True)], filters=[strip])
    allergies = TextAreaField("Allergies (clinical)", validators=[
        Optional(), SafeText(clients.MAX_ALLERGIES, multiline=True)], filters=[strip])
    submit = SubmitField("Save client")
    create_anyway = None  # type: ignore[assignment]


class MergeForm(FlaskForm):
    into_id = IntegerField("Keep client number", validators=[
        DataRequired("Say which client to keep."), NumberRange(1, MAX_ID)])
    submit = SubmitField("Merge into that client")


class RefundForm(FlaskForm):
    """The quantities per line come as `qty-<line id>` fields next to each line, the
    sessions of a started series as `sessions-<line id>`."""

    restock = BooleanField("Put retail items back into stock", default=True)
    reason = StringField("Reason", validators=[
        DataRequired("Say why the sale is refunded."), SafeText(500)], filters=[strip])
    amount = StringField("Give back less than the full amount (optional, in dollars)",
                         validators=[Optional(), SafeText(40)], filters=[strip])
    refund_to = RadioField("Refund to", choices=[
        SelectChoice("original", "Back the way it was paid"),
        SelectChoice("credit", "To the client's account credit")], default="original")
    submit = SubmitField("Refund")


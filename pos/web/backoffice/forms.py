from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from pos.domain.errors import PosError
from pos.domain.money import parse_cents
from pos.web.form_rules import strip


class DiscountCodeForm(FlaskForm):
    code = StringField("Code", validators=[
        DataRequired("Type the code clients will give."), Length(max=40),
        Regexp(r"^[A-Za-z0-9_-]+$", message="Code has letters, digits, - and _ only.")],
        filters=[strip])
    kind = SelectField("Kind", choices=[SelectChoice("percent", "Percent off"),
                                        SelectChoice("fixed", "Amount off ($)")])
    value = StringField("Value (10 for 10 %, or 5.00 for $5.00)", validators=[
        DataRequired("Type how much the code takes off."), Length(max=20)], filters=[strip])
    starts_on = DateField("Starts on", validators=[Optional()])
    ends_on = DateField("Ends on", validators=[Optional()])
    max_uses = IntegerField("Most uses", validators=[Optional(), NumberRange(min=1,
                                                                            max=1_000_000)])
    submit = SubmitField("Create code")

    amount: int | None = None

    def validate_value(self, field: StringField) -> None:
        """A whole percent 1-100, or dollars (kept as cents in `.amount`)."""
        text = field.data or ""
        if self.kind.data == "percent":
            if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 100):
                raise ValidationError("A percent is a whole number from 1 to 100.")
            self.amount = int(text)
            return
        try:
            self.amount = parse_cents(text)
        except PosError as error:
            raise ValidationError(error.message) from None
        if self.amount < 1:
            raise ValidationError("An amount off is at least $0.01.")


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(["0", "1"])])
    submit = SubmitField("Deactivate")


class ImportForm(FlaskForm):
    kind = SelectField("What the file holds", choices=[SelectChoice("items", "Items"),
                                                       SelectChoice("clients", "Clients")])
    file = FileField("CSV file", validators=[FileRequired("Choose the CSV file.")])
    check = SubmitField("Check (dry run)")
    run = SubmitField("Import")

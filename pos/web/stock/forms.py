from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from pos.domain.errors import PosError
from pos.domain.limits import MAX_QUANTITY
from pos.domain.money import parse_cents
from pos.domain.stock import ADJUSTMENT_REASONS
from pos.web.form_rules import SafeText, strip


class MoneyField(StringField):
    """Dollars typed as text ("12.50"), kept as integer cents in `.cents`."""

    cents: int | None = None

    def pre_validate(self, form: FlaskForm) -> None:
        self.cents = None
        if self.data:
            # parse_cents refuses more than MAX_AMOUNT_CENTS, the limit the API holds too.
            try:
                self.cents = parse_cents(self.data)
            except PosError as error:
                raise ValidationError(error.message) from None


class ReceiveForm(FlaskForm):
    # InputRequired, not DataRequired: "0" is typed in, and must be told it is out of range,
    # not that the field is empty.
    quantity = IntegerField("Quantity", validators=[
        InputRequired(), NumberRange(min=1, max=MAX_QUANTITY)])
    # " C-1" from a label scanner is lot C-1, not a new lot.
    lot = StringField("Lot number", validators=[Optional(), SafeText(60)],
                      filters=[strip])
    expires_on = DateField("Expires on", validators=[Optional()])
    unit_cost = MoneyField("Unit cost ($)", validators=[Optional(), Length(max=20)])
    submit = SubmitField("Receive")


class AdjustForm(FlaskForm):
    lot = SelectField("Lot", validators=[DataRequired()], choices=[])
    qty_delta = IntegerField("Change (+ or -)", validators=[
        InputRequired(), NumberRange(min=-MAX_QUANTITY, max=MAX_QUANTITY)])
    reason = SelectField("Reason", choices=[SelectChoice(r, r.capitalize())
                                            for r in ADJUSTMENT_REASONS])
    note = StringField("Note", validators=[Optional(), SafeText(500)],
                       filters=[strip])
    submit = SubmitField("Record adjustment")

    def validate_qty_delta(self, field: IntegerField) -> None:
        if field.data == 0:
            raise ValidationError("An adjustment must change the quantity.")

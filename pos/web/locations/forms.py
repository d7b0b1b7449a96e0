"""The locations page and the transfer form. The rules are the API's
(pos.web.api.schemas.locations)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from pos.domain.limits import MAX_QUANTITY
from pos.web.form_rules import SafeText, strip


class LocationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), SafeText(120)], filters=[strip])
    submit = SubmitField("Add location")


class HomeLocationForm(FlaskForm):
    user = SelectField("Staff member", coerce=int, validators=[DataRequired()], choices=[])
    location = SelectField("Home location", coerce=int, validators=[DataRequired()],
                           choices=[])
    save = SubmitField("Set home location")


class TransferForm(FlaskForm):
    sku = SelectField("Item", validators=[DataRequired()], choices=[])
    lot = StringField("Lot", validators=[DataRequired(), SafeText(60)], filters=[strip])
    quantity = IntegerField("Quantity", validators=[
        InputRequired(), NumberRange(min=1, max=MAX_QUANTITY)])
    from_location = SelectField("From", coerce=int, validators=[DataRequired()], choices=[])
    to_location = SelectField("To", coerce=int, validators=[DataRequired()], choices=[])
    note = StringField("Note", validators=[Optional(), SafeText(500)], filters=[strip])
    submit = SubmitField("Transfer")

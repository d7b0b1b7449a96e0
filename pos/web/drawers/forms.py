from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from pos.web.form_rules import SafeText, strip
from pos.web.stock.forms import MoneyField


class OpenDrawerForm(FlaskForm):
    opening_float = MoneyField("Opening float ($)", validators=[
        DataRequired("Type the cash the drawer starts with (0 for none)."), Length(max=20)])
    submit = SubmitField("Open the drawer")


class MovementForm(FlaskForm):
    kind = SelectField("Kind", choices=[SelectChoice("paid_in", "Paid in"),
                                        SelectChoice("paid_out", "Paid out")])
    amount = MoneyField("Amount ($)", validators=[
        DataRequired("Type the amount."), Length(max=20)])
    note = StringField("What for", validators=[
        DataRequired("Say what the cash was for."), SafeText(500)], filters=[strip])
    submit = SubmitField("Record")


class CloseDrawerForm(FlaskForm):
    counted = MoneyField("Counted cash ($)", validators=[
        DataRequired("Type the cash counted in the drawer."), Length(max=20)])
    note = StringField("Note (needed when over or short past the tolerance)",
                       validators=[Optional(), SafeText(500)], filters=[strip])
    submit = SubmitField("Count and close")


class ReopenForm(FlaskForm):
    submit = SubmitField("Reopen")

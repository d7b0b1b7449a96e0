"""The sale page's actions: each a form of its own (its own CSRF token, its own button)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from pos.web.form_rules import SafeText, strip
from pos.web.stock.forms import MoneyField


class CancelSaleForm(FlaskForm):
    submit = SubmitField("Cancel the card payment")


class TakeCashForm(FlaskForm):
    cash_tendered = MoneyField("Cash tendered ($, optional)",
                               validators=[Optional(), Length(max=20)])
    submit = SubmitField("Take cash instead")


class EmailReceiptForm(FlaskForm):
    submit = SubmitField("Email the receipt")


class VoidSaleForm(FlaskForm):
    """A paid sale reversed the same day [manager]; the reason is the confirmation."""

    reason = StringField("Why void it", validators=[
        DataRequired("Say why the sale is voided."), SafeText(500)], filters=[strip])
    submit = SubmitField("Void the sale")

"""The sale page's actions: each a form of its own (its own CSRF token, its own button)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.validators import Length, Optional

from pos.web.stock.forms import MoneyField


class CancelSaleForm(FlaskForm):
    submit = SubmitField("Cancel the card payment")


class TakeCashForm(FlaskForm):
    cash_tendered = MoneyField("Cash tendered ($, optional)",
                               validators=[Optional(), Length(max=20)])
    submit = SubmitField("Take cash instead")


class EmailReceiptForm(FlaskForm):
    submit = SubmitField("Email the receipt")

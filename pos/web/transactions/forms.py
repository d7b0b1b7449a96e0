"""The sale page's actions: each a form of its own (its own CSRF token, its own button)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, SubmitField
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


class AddTenderForm(FlaskForm):
    """Another payment for a sale awaiting payment (the twin of POST
    /api/v1/sales/{id}/payments): cash with what was handed over and an optional tip, a
    card by QR code, a card reader of the desk's location (a tip too, charged on the
    reader), the client's account credit, a gift card (its code), or a payment on the
    clinic's other card machine.
    The reader and credit choices are added by the page when they apply."""

    method = RadioField("How", choices=[("cash", "Cash"), ("card", "Card (QR code)"),
                                        ("external_card", "External card machine")],
                        default="cash", validators=[DataRequired("Choose how.")])
    amount = MoneyField("Amount ($)", validators=[DataRequired("Type the amount."),
                                                  Length(max=20)])
    cash_tendered = MoneyField("Cash handed over ($, optional)",
                               validators=[Optional(), Length(max=20)])
    tip = MoneyField("Tip ($, optional: cash or card reader)",
                     validators=[Optional(), Length(max=20)])
    tip_provider = SelectField("Tip goes to", coerce=int, choices=[], validate_choice=False,
                               validators=[Optional()])
    reader = SelectField("Which card reader", coerce=int, choices=[], validate_choice=False,
                         validators=[Optional()])
    last4 = StringField("Card's last 4 digits", validators=[Optional(), Length(max=4)],
                        filters=[strip])
    auth_code = StringField("Authorization code", validators=[Optional(), Length(max=20)],
                            filters=[strip])
    gift_code = StringField("Gift card code", validators=[Optional(), Length(max=40)],
                            filters=[strip])
    submit = SubmitField("Add payment")

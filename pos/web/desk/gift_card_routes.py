"""The desk's "Gift card balance" page (GET /api/v1/gift-cards/{code}'s twin).

The code is posted, not put in the address: a full code is as good as cash, and an
address ends up in the browser's history and the server's access log."""
from __future__ import annotations

from flask import render_template
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from pos.extensions import db
from pos.services import gift_cards
from pos.web.access import role_required
from pos.web.desk.routes import desk_bp
from pos.web.form_rules import strip


class GiftCardLookupForm(FlaskForm):
    code = StringField("Gift card code", validators=[
        DataRequired("Type the code on the card."), Length(max=64)],
        filters=[strip], render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                    "spellcheck": "false"})
    submit = SubmitField("Check balance")


@desk_bp.route("/desk/gift-cards", methods=["GET", "POST"])
@role_required("front_desk")
def gift_card_balance_page():  # type: ignore[no-untyped-def]
    form = GiftCardLookupForm()
    view, status = None, 200
    if form.validate_on_submit():
        try:
            view = gift_cards.balance(db.session, form.code.data or "")
        except gift_cards.GiftCardNotFound as error:
            form.code.errors = [*form.code.errors, error.message]
            status = error.status
        # Never echo the full code back into the page.
        form.code.data = ""
    elif form.is_submitted():
        status = 422
    return render_template("desk/gift_card_balance.html", form=form, view=view), status

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from pos.services.staff import MIN_PASSWORD_LENGTH

_PIN_RULES = [DataRequired("Type your PIN."),
              Regexp(r"^[0-9]{4,8}$", message="A PIN is 4 to 8 digits.")]
_PIN_INPUT = {"inputmode": "numeric", "autocomplete": "off", "maxlength": "8"}


class LoginForm(FlaskForm):
    # A tablet's keyboard adds a space after an autocompleted address.
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)],
                       filters=[lambda value: value.strip() if isinstance(value, str) else value])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    # Shown when the clinic has several locations; 0: the user's home location.
    location = SelectField("Location", coerce=int, validate_choice=False, default=0,
                           validators=[Optional()])
    submit = SubmitField("Sign in")


class PinUnlockForm(FlaskForm):
    """The lock screen: pick who you are among the desk's people, type your PIN. Any id is
    accepted here; the service refuses one who has not signed in on this desk."""

    user_id = SelectField("Who is unlocking", coerce=int, validate_choice=False,
                          validators=[DataRequired("Pick who you are.")])
    pin = PasswordField("PIN", validators=_PIN_RULES, render_kw=_PIN_INPUT)
    unlock = SubmitField("Unlock")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password",
                                     validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField("New password", validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200,
                               message=f"At least {MIN_PASSWORD_LENGTH} characters.")])
    confirm = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("new_password", message="The two new passwords differ.")])
    submit = SubmitField("Change my password")


class SetPinForm(FlaskForm):
    pin = PasswordField("New PIN (4 to 8 digits)", validators=_PIN_RULES, render_kw=_PIN_INPUT)
    confirm = PasswordField("New PIN again", validators=[
        DataRequired(), EqualTo("pin", message="The two PINs differ.")], render_kw=_PIN_INPUT)
    current_password = PasswordField("Current password",
                                     validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Set my PIN")

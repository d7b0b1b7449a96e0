from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, Length


class LoginForm(FlaskForm):
    # A tablet's keyboard adds a space after an autocompleted address.
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)],
                       filters=[lambda value: value.strip() if isinstance(value, str) else value])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Sign in")

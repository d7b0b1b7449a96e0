"""The admin's forms: invite a user, their roles, a token, the audit filters; and the
set-password form a new user reaches from their email."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from pos.domain.clinic import MAX_TAX_RATE_BP, TEXT_LIMITS, timezone_names
from pos.domain.limits import MAX_DATE, MAX_ID, MIN_DATE
from pos.domain.roles import ROLE_ORDER
from pos.services.staff import MIN_PASSWORD_LENGTH
from pos.web.form_rules import SafeText, strip

ROLE_CHOICES = [SelectChoice(r.value, r.value.replace("_", " ").capitalize())
                for r in ROLE_ORDER]


class RolesField(SelectMultipleField):
    """Roles as a group of checkboxes (one or more)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _in_range(form: FlaskForm, field: DateField) -> None:
    if field.data is not None and not MIN_DATE <= field.data <= MAX_DATE:
        raise ValidationError(f"Choose a date between {MIN_DATE} and {MAX_DATE}.")


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("An email is required."), Email(),
                                            Length(max=254)], filters=[strip])
    name = StringField("Name", validators=[DataRequired("A name is required."),
                                           SafeText(120)], filters=[strip])
    roles = RolesField("Roles", choices=ROLE_CHOICES,
                       validators=[DataRequired("Choose at least one role.")])
    submit = SubmitField("Invite")


class RolesForm(FlaskForm):
    roles = RolesField("Roles", choices=ROLE_CHOICES,
                       validators=[DataRequired("Choose at least one role.")])
    submit = SubmitField("Save roles")


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (deactivate, reactivate, reset, revoke)."""

    submit = SubmitField("Go")


class TokenForm(FlaskForm):
    expires_on = DateField("Expires after (optional)", validators=[Optional(), _in_range])
    submit = SubmitField("Create token")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search: nothing changes

    user_id = IntegerField("User id", validators=[Optional(), NumberRange(1, MAX_ID)])
    action = StringField("Action", validators=[Optional(), SafeText(60)], filters=[strip])
    from_ = DateField("From", validators=[Optional(), _in_range])
    to = DateField("To", validators=[Optional(), _in_range])
    page = IntegerField("Page", validators=[Optional(), NumberRange(1, 1_000_000)])


class SetPasswordForm(FlaskForm):
    token = HiddenField()
    password = PasswordField("New password", validators=[
        DataRequired("Choose a password."),
        Length(min=MIN_PASSWORD_LENGTH, max=200,
               message=f"Use {MIN_PASSWORD_LENGTH} to 200 characters.")])
    confirm = PasswordField("Repeat it", validators=[
        DataRequired("Repeat the password."), EqualTo("password", "The two do not match.")])
    submit = SubmitField("Set password")


class ClinicSettingsForm(FlaskForm):
    """The clinic's settings; the tax rate is typed as a percent (8.25), kept in basis
    points. The currency is shown, not set (it stays in the environment)."""

    clinic_name = StringField("Clinic name", validators=[
        DataRequired("The clinic needs a name."), SafeText(TEXT_LIMITS["clinic_name"])],
        filters=[strip])
    address = TextAreaField("Address", validators=[
        Optional(), SafeText(TEXT_LIMITS["address"], multiline=True)], filters=[strip])
    phone = StringField("Phone", validators=[Optional(), SafeText(TEXT_LIMITS["phone"])],
                        filters=[strip])
    tax_id = StringField("Tax id", validators=[Optional(), SafeText(TEXT_LIMITS["tax_id"])],
                         filters=[strip])
    receipt_footer = TextAreaField("Receipt footer", validators=[
        Optional(), SafeText(TEXT_LIMITS["receipt_footer"], multiline=True)], filters=[strip])
    tax_rate = DecimalField("Tax rate (%)", places=2, validators=[
        InputRequired("Give the tax rate (0 for none)."),
        NumberRange(0, MAX_TAX_RATE_BP / 100, "Between 0 and 100 %%.")])
    timezone = SelectField("Time zone", choices=[])
    submit = SubmitField("Save settings")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(name, name) for name in timezone_names()]

    def validate_tax_rate(self, field: DecimalField) -> None:
        if field.data is not None and (field.data * 100) != int(field.data * 100):
            raise ValidationError("At most two decimals (8.25).")

"""Forms of the clinical desk: recording a treatment with its screening, editing a package's
bill of materials, searching a lot for a recall."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import HiddenField, SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from pos.domain.consent import MAX_FORM_TEXT
from pos.domain.limits import MAX_QUANTITY
from pos.domain.screening import BOOLEAN, Questionnaire, Severity
from pos.domain.text import text_problem
from pos.domain.treatments import (
    DEVICE_MAX,
    MAX_PASSES,
    NEEDLE_DEPTH_MAX_MM,
    NEEDLE_DEPTH_MIN_MM,
    NOTES_MAX,
    TreatmentSettings,
)
from pos.models.catalog import AREAS
from pos.web.form_rules import SafeText, strip

FIELD_PREFIX = "q_"

GROUP_TEXTS: tuple[tuple[Severity, str, str], ...] = (
    (Severity.CONTRAINDICATED, "Contraindications", "Any yes: no procedure."),
    (Severity.AVOID_AREA, "Avoid the area",
     "Allowed only when treating around the affected area."),
    (Severity.CAUTION, "Cautions", "Allowed once acknowledged."),
)


def question_groups(questionnaire: Questionnaire) -> list[tuple[str, str, tuple[str, ...]]]:
    """The yes/no questions in the three groups the provider reads them in, then the dates."""
    groups = [(title, hint, questionnaire.keys_of(rule)) for rule, title, hint in GROUP_TEXTS]
    groups.append(("Waits", "A date: no procedure until the wait after it is over. "
                   "Leave empty if never.", questionnaire.date_keys))
    return [g for g in groups if g[2]]


class _NotesText(SafeText):
    """SafeText for a text area: line breaks and tabs are allowed (as the API's notes)."""

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        problem = text_problem(str(field.data).strip(), max_length=self.max_length,
                               multiline=True)
        if problem is not None:
            raise ValidationError(f"{field.label.text} {problem}.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TreatmentForm(FlaskForm):
    """Each question is an explicit yes/no with no default: an unanswered question is an
    error, never a silent "no" (the rule parse_answers applies to the API too). Built for
    the questionnaire in force by `treatment_form`."""

    questionnaire: Questionnaire

    purchase_id = SelectField("Package", coerce=int, validators=[InputRequired()])
    area = SelectField("Area", choices=[SelectChoice(a, a.capitalize()) for a in AREAS],
                       validators=[InputRequired()])
    acknowledged = MultiCheckboxField("I have checked and acknowledge", choices=[],
                                      validators=[Optional()])
    needle_depth_mm = DecimalField(
        f"Needle depth, mm ({NEEDLE_DEPTH_MIN_MM}-{NEEDLE_DEPTH_MAX_MM})", places=2,
        validators=[Optional(), NumberRange(
            min=NEEDLE_DEPTH_MIN_MM, max=NEEDLE_DEPTH_MAX_MM,
            message=f"The MDPen's range is {NEEDLE_DEPTH_MIN_MM} to {NEEDLE_DEPTH_MAX_MM} mm.")])
    passes = IntegerField("Passes", validators=[Optional(), NumberRange(min=1, max=MAX_PASSES)])
    device = StringField("Device", filters=[strip],
                         validators=[Optional(), SafeText(DEVICE_MAX)])
    notes = TextAreaField("Notes", filters=[strip],
                          validators=[Optional(), _NotesText(NOTES_MAX)])
    submit = SubmitField("Record treatment")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.needle_depth_mm.data is None and not self.needle_depth_mm.errors \
                and (self.passes.data or self.device.data):
            self.needle_depth_mm.errors = [
                *self.needle_depth_mm.errors,
                "Give the needle depth with the passes or the device."]
            return False
        return valid

    def treatment_settings(self) -> TreatmentSettings | None:
        if self.needle_depth_mm.data is None:
            return None
        return TreatmentSettings(float(self.needle_depth_mm.data), self.passes.data,
                                 self.device.data or None)

    def question(self, key: str) -> Any:
        return self[FIELD_PREFIX + key]

    def screening_raw(self) -> dict[str, Any]:
        """The answers in the API's shape, for pos.domain.screening.parse_answers."""
        raw: dict[str, Any] = {}
        for q in self.questionnaire.questions:
            data = self.question(q.key).data
            if q.type == BOOLEAN:
                raw[q.key] = data == "yes"
            else:
                raw[q.key] = data.isoformat() if data else None
        return raw


def treatment_form(questionnaire: Questionnaire) -> TreatmentForm:
    """The treatment form for this version of the questionnaire: each yes/no question an
    explicit choice with no default, each date question a date (empty: never)."""

    class Form(TreatmentForm):
        pass

    for q in questionnaire.questions:
        if q.type == BOOLEAN:
            field: Any = RadioField(
                q.text, choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
                validators=[InputRequired(message="Answer yes or no.")])
        else:
            field = DateField(f"{q.text} (wait {q.wait_days} days; empty if never)",
                              validators=[Optional()])
        setattr(Form, FIELD_PREFIX + q.key, field)
    form = Form()
    form.questionnaire = questionnaire
    avoid = questionnaire.keys_of(Severity.AVOID_AREA)
    form.acknowledged.choices = [
        SelectChoice(k, ("Treating around: " if k in avoid else "Caution: ")
                     + questionnaire.text_of(k))
        for k in avoid + questionnaire.keys_of(Severity.CAUTION)]
    return form


class QuestionnaireForm(FlaskForm):
    """A new version of the questionnaire, as the API's JSON list of questions."""
    questions = TextAreaField("Questions (JSON: key, text, type, rule, wait_days)",
                              validators=[InputRequired()], render_kw={"rows": 24})
    submit = SubmitField("Publish as the next version")


class ConsentSignForm(FlaskForm):
    """The client's signature on the form in force, drawn on the pad (a PNG data URL)."""
    form_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    signature = HiddenField(validators=[InputRequired(message="The client has not signed.")])
    submit = SubmitField("Save the signed consent")


class ConsentFormForm(FlaskForm):
    """A new version of the consent form's text."""
    text = TextAreaField("Consent form text", filters=[strip],
                         validators=[InputRequired(), _NotesText(MAX_FORM_TEXT)],
                         render_kw={"rows": 24})
    submit = SubmitField("Publish as the next version")


class AftercareSheetForm(FlaskForm):
    text = TextAreaField("Aftercare sheet", filters=[strip],
                         validators=[InputRequired(), _NotesText(MAX_FORM_TEXT)],
                         render_kw={"rows": 20})
    submit = SubmitField("Save the aftercare sheet")


class VoidForm(FlaskForm):
    """Void a treatment: the reason is required; the supplies it used are written off."""
    reason = StringField("Reason for voiding", filters=[strip],
                         validators=[InputRequired(), SafeText(500)])
    submit = SubmitField("Void and write off supplies")


class RecallForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search

    lot = StringField("Lot number", validators=[InputRequired(), SafeText(60)],
                      filters=[strip])


def supplies_form(items: list[tuple[int, str]], current: dict[int, int]) -> FlaskForm:
    """A form with one quantity per session for each (item id, label) (0: not used)."""

    class SuppliesForm(FlaskForm):
        submit = SubmitField("Save bill of materials")

    for item_id, label in items:
        setattr(SuppliesForm, f"qty_{item_id}", IntegerField(
            label, default=current.get(item_id, 0),
            validators=[InputRequired(message="Enter a quantity (0 if not used)."),
                        NumberRange(min=0, max=MAX_QUANTITY)]))
    return SuppliesForm()

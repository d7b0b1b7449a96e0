"""A treatment: who, which purchase, where, and the screening answers."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Interval, Len
from pydantic import PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from pos.domain.aftercare import MAX_SHEET_TEXT
from pos.domain.consent import MAX_FORM_TEXT, MAX_SIGNATURE_BYTES
from pos.domain.screening import (
    DEFAULT_QUESTIONNAIRE,
    MAX_QUESTIONS,
    MAX_WAIT_DAYS,
    QUESTION_TEXT_MAX,
)
from pos.domain.text import text_problem
from pos.domain.treatments import (
    DEVICE_MAX,
    MAX_PASSES,
    NEEDLE_DEPTH_MAX_MM,
    NEEDLE_DEPTH_MIN_MM,
    NOTES_MAX,
)
from pos.models.catalog import AREAS
from pos.web.api.schemas.types import Id, SafeText, StrictModel, Timestamp

ConditionKey = Annotated[str, SafeText(64)]
# Which keys must be answered, and how, is the screening's own rule (pos.domain.screening,
# 422 screening_incomplete naming the keys); here only the shape of the answers is checked.
# The document states the questionnaire in force.


def _answer(value: Any) -> bool | str | None:
    # One validator, not a union: an error then names the key alone, not each branch tried.
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) <= 10 and \
            text_problem(value, max_length=10) is None:
        return value
    raise PydanticCustomError("answer_type", "must be true, false, null or a date YYYY-MM-DD")


Answer = Annotated[Any, PlainValidator(_answer)]
Screening = Annotated[
    dict[ConditionKey, Answer], Len(max_length=64),
    # The document shows the default questionnaire (version 1); the version in force is
    # GET /api/v1/screening/questionnaire, and its keys are the ones required.
    WithJsonSchema({
        "type": "object", "additionalProperties": False,
        "required": list(DEFAULT_QUESTIONNAIRE.keys),
        "properties": {
            **{key: {"type": "boolean"} for key in DEFAULT_QUESTIONNAIRE.boolean_keys},
            **{key: {"type": ["string", "null"], "format": "date",
                     "pattern": r"^(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}$"}
               for key in DEFAULT_QUESTIONNAIRE.date_keys}}}),
]


class TreatmentSettingsIn(StrictModel):
    """The pen's settings: needle depth (required, the MDPen's range), passes, device."""
    needle_depth_mm: Annotated[float, Interval(ge=NEEDLE_DEPTH_MIN_MM, le=NEEDLE_DEPTH_MAX_MM)]
    passes: Annotated[int, Interval(ge=1, le=MAX_PASSES)] | None = None
    device: Annotated[str, SafeText(DEVICE_MAX, optional=True)] | None = None


class TreatmentIn(StrictModel):
    client_id: Id
    purchase_id: Id
    area: Literal[AREAS]  # type: ignore[valid-type]
    screening: Screening
    acknowledged_cautions: Annotated[list[ConditionKey], Len(max_length=64)] | None = None
    performed_at: Timestamp | None = None
    notes: Annotated[str, SafeText(NOTES_MAX, multiline=True, optional=True)] | None = None
    settings: TreatmentSettingsIn | None = None


class TreatmentVoidIn(StrictModel):
    """Why a treatment is voided: required."""
    reason: Annotated[str, SafeText(500, multiline=True)]


class QuestionIn(StrictModel):
    key: Annotated[str, SafeText(64, pattern=r"^[a-z][a-z0-9_]{1,63}$",
                                 pattern_problem="must be snake_case, 2-64 characters")]
    text: Annotated[str, SafeText(QUESTION_TEXT_MAX)]
    type: Literal["boolean", "date"]
    rule: Literal["contraindicated", "avoid_area", "caution", "wait_days"]
    wait_days: Annotated[int, Interval(ge=1, le=MAX_WAIT_DAYS)] | None = None


class QuestionnaireIn(StrictModel):
    """A new version of the screening questionnaire: every question, in order."""
    questions: Annotated[list[QuestionIn], Len(min_length=1, max_length=MAX_QUESTIONS)]


class ConsentFormIn(StrictModel):
    """A new version of the consent form's text."""
    text: Annotated[str, SafeText(MAX_FORM_TEXT, multiline=True)]


class ConsentIn(StrictModel):
    """A client's signature (a PNG, base64; a data: URL prefix is accepted) on a version."""
    form_version: Id
    signature_png_base64: Annotated[str, Len(min_length=1,
                                             max_length=MAX_SIGNATURE_BYTES * 4 // 3 + 64)]


class AftercareSheetIn(StrictModel):
    """The clinic's aftercare sheet."""
    text: Annotated[str, SafeText(MAX_SHEET_TEXT, multiline=True)]

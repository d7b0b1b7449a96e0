"""A treatment: who, which purchase, where, and the screening answers."""
from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Len
from pydantic import WithJsonSchema

from pos.domain.screening import ALL_KEYS, BOOLEAN_KEYS, BOTOX_KEY
from pos.models.catalog import AREAS
from pos.web.api.schemas.types import Id, SafeText, StrictModel, Timestamp

ConditionKey = Annotated[str, SafeText(64)]
# Which keys must be answered, and how, is the screening's own rule (pos.domain.screening,
# 422 screening_incomplete naming the keys); here only the shape of the answers is checked.
# The document states the questionnaire in force.
Screening = Annotated[
    dict[ConditionKey, bool | Annotated[str, SafeText(10)] | None], Len(max_length=64),
    WithJsonSchema({
        "type": "object", "additionalProperties": False, "required": list(ALL_KEYS),
        "properties": {**{key: {"type": "boolean"} for key in BOOLEAN_KEYS},
                       BOTOX_KEY: {"type": ["string", "null"], "format": "date",
                                   "pattern": r"^(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}$"}}}),
]


class TreatmentIn(StrictModel):
    client_id: Id
    purchase_id: Id
    area: Literal[AREAS]  # type: ignore[valid-type]
    screening: Screening
    acknowledged_cautions: Annotated[list[ConditionKey], Len(max_length=64)] | None = None
    performed_at: Timestamp | None = None

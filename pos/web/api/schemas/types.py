"""Field types shared by every input model, each carrying its rule and its JSON schema."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from pos.domain.errors import NotFound
from pos.domain.limits import MAX_AMOUNT_CENTS, MAX_DATE, MAX_ID, MAX_QUANTITY, MIN_DATE
from pos.domain.text import CONTROL_FREE_PATTERN, MULTILINE_PATTERN, text_problem


class StrictModel(BaseModel):
    """No coercion ("2" is not 2, true is not 1, 1.0 is not 1) and no unknown field."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


@dataclass(frozen=True)
class SafeText:
    """Text typed by a person: stripped, then held to pos.domain.text.text_problem.

    Used as `Annotated[str, SafeText(120)]`. `optional=True` turns empty text into None
    (the field must then be typed `... | None`); `multiline=True` lets line breaks and tabs
    through (an address); `pattern` is a further rule, with `pattern_problem` as its message.
    """

    max_length: int
    markup: bool = False
    multiline: bool = False
    optional: bool = False
    pattern: str | None = None
    pattern_problem: str = "has characters that are not allowed"

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        out.update({"maxLength": self.max_length,
                    "pattern": self.pattern or (MULTILINE_PATTERN if self.multiline
                                                else CONTROL_FREE_PATTERN)})
        if not self.optional:
            out["minLength"] = 1
        if not self.markup:
            out["description"] = "Text without HTML tags."
        return out

    def _check(self, value: str) -> str | None:
        value = value.strip()
        if not value:
            if self.optional:
                return None
            raise PydanticCustomError("text_empty", "must not be empty")
        problem = text_problem(value, max_length=self.max_length, markup=self.markup,
                               multiline=self.multiline)
        if problem is None and self.pattern is not None and not re.match(self.pattern, value):
            problem = self.pattern_problem
        if problem is not None:
            raise PydanticCustomError("text_rule", problem)
        return value


Cents = Annotated[int, Interval(ge=0, le=MAX_AMOUNT_CENTS)]
Quantity = Annotated[int, Interval(ge=1, le=MAX_QUANTITY)]
Id = Annotated[int, Interval(ge=1, le=MAX_ID)]


@dataclass(frozen=True)
class StringSchema:
    """The JSON schema of a type parsed from a string by a plain validator."""

    format: str
    pattern: str

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "format": self.format, "pattern": self.pattern}

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DAY_PROBLEM = f"must be a date YYYY-MM-DD between {MIN_DATE} and {MAX_DATE}"


def _day(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        parsed: date | None = value
    elif isinstance(value, str) and _DAY.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
    else:
        parsed = None
    if parsed is None or not MIN_DATE <= parsed <= MAX_DATE:
        raise PydanticCustomError("date_rule", _DAY_PROBLEM)
    return parsed


def _timestamp(value: Any) -> datetime:
    parsed = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.utcoffset() is None or \
            not MIN_DATE.year <= parsed.year <= MAX_DATE.year:
        raise PydanticCustomError(
            "timestamp_rule", "must be an ISO 8601 timestamp with an offset, "
            f"between {MIN_DATE.year} and {MAX_DATE.year}")
    return parsed.astimezone(UTC)


# The year is held to 1900-2199 in the schema too, so generated input knows the range.
Day = Annotated[date, PlainValidator(_day, json_schema_input_type=str),
                StringSchema("date", r"^(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}$")]
Timestamp = Annotated[datetime, PlainValidator(_timestamp, json_schema_input_type=str),
                      StringSchema("date-time", r"^(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}T.*"
                                                r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")]


def path_text(value: str, what: str, max_length: int = 64) -> str:
    """A text part of a URL (a sku, a lot): one that no text field could hold names
    nothing, so it is a 404, never a database error (PostgreSQL refuses NUL)."""
    if text_problem(value, max_length=max_length, markup=True) is not None:
        raise NotFound(f"There is no {what} by that name.", {what: value[:max_length]})
    return value

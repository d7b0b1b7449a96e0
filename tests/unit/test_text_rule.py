"""One text rule: the API's SafeText and the page forms' validator refuse the same text
with the same words; and the limits are the ones API.md states."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated

import pytest
from pydantic import ValidationError
from wtforms.validators import ValidationError as FormError

from pos.domain.limits import MAX_AMOUNT_CENTS, MAX_DATE, MAX_ID, MAX_QUANTITY, MIN_DATE
from pos.domain.money import MAX_CENTS
from pos.domain.text import text_problem
from pos.web.api.schemas.parsing import as_validation_failed, field_name
from pos.web.api.schemas.types import SafeText, StrictModel
from pos.web.form_rules import SafeText as FormSafeText


class Named(StrictModel):
    name: Annotated[str, SafeText(20)]


TEXTS = [
    ("Serum", None),
    ("  Serum  ", None),
    ("skin < 30 -> gentle", None),
    ("x" * 21, "must be at most 20 characters"),
    ("Pe\x00el", "must not contain control characters"),
    ("Pe\x1bel", "must not contain control characters"),
    ("Pe\x85el", "must not contain control characters"),
    ("Peel\ud800", "must be valid text (UTF-8)"),
    ("<b>Peel</b>", "must not contain HTML tags"),
    ("Peel <!-- x -->", "must not contain HTML tags"),
]


@pytest.mark.parametrize(("text", "problem"), TEXTS)
def test_the_api_and_the_forms_refuse_the_same_text_with_the_same_words(text, problem):
    try:
        Named.model_validate({"name": text})
        api_problem = None
    except ValidationError as error:
        api_problem = as_validation_failed(error).details["fields"]["name"]
    field = SimpleNamespace(data=text, label=SimpleNamespace(text="Name"))
    try:
        FormSafeText(20)(None, field)
        form_problem = None
    except FormError as error:
        form_problem = str(error)
    assert api_problem == problem
    assert form_problem == (None if problem is None else f"Name {problem}.")


def test_markup_is_allowed_only_where_asked():
    assert text_problem("<b>", max_length=10) == "must not contain HTML tags"
    assert text_problem("<b>", max_length=10, markup=True) is None


def test_each_limit_is_the_one_api_md_states():
    assert MAX_AMOUNT_CENTS == MAX_CENTS == 10_000_000_000
    assert MAX_QUANTITY == 1_000_000
    assert MAX_ID == 2**31 - 1
    assert (MIN_DATE.isoformat(), MAX_DATE.isoformat()) == ("1900-01-01", "2199-12-31")


def test_field_names_read_like_the_json_path():
    assert field_name(("lines", 0, "quantity")) == "lines[0].quantity"
    assert field_name(("lines", 3)) == "lines[3]"
    assert field_name(()) == "body"

"""The page forms' side of the text rule: the same pos.domain.text rule the API's
`SafeText` applies, as a WTForms validator, so a page and the API refuse the same text."""
from __future__ import annotations

from typing import Any

from wtforms.validators import ValidationError

from pos.domain.text import text_problem


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class SafeText:
    """WTForms validator: `validators=[..., SafeText(120)]`, with `filters=[strip]`."""

    def __init__(self, max_length: int, *, markup: bool = False,
                 multiline: bool = False) -> None:
        self.max_length = max_length
        self.markup = markup
        self.multiline = multiline
        self.field_flags = {"maxlength": max_length}

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        problem = text_problem(str(field.data).strip(), max_length=self.max_length,
                               markup=self.markup, multiline=self.multiline)
        if problem is not None:
            raise ValidationError(f"{field.label.text} {problem}.")

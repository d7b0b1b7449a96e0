"""Reading a JSON request body field by field, collecting every problem into one 422."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import request

from pos.domain.errors import ValidationFailed
from pos.domain.money import MAX_CENTS

MAX_QUANTITY = 1_000_000
# Money and counts are INTEGER columns (32-bit on PostgreSQL): nothing larger is stored.
MAX_STORED_INT = 2**31 - 1
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
# The start of an HTML tag, comment or declaration: "<b", "</", "<!", "<?". A plain "<" or
# "->" in free text is fine; markup in a name or code is refused.
MARKUP = re.compile(r"<[A-Za-z/!?]")
_MISSING = object()


def json_body() -> Body:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed("The request body must be a JSON object.",
                               {"fields": {"body": "not a JSON object"}})
    return Body(data)


class Body:
    """Typed accessors over a JSON object. Booleans are not integers and 1.0 is not 1."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.errors[name] = "is required"
            return _MISSING
        return value

    def string(self, name: str, *, max_len: int, required: bool = True,
               pattern: re.Pattern[str] | None = None) -> str | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.errors[name] = "must be a string"
            return None
        value = value.strip()
        if required and not value:
            self.errors[name] = "must not be empty"
        elif len(value) > max_len:
            self.errors[name] = f"must be at most {max_len} characters"
        elif any(ord(c) < 32 or ord(c) == 127 for c in value):
            self.errors[name] = "must not contain control characters"
        elif not _encodable(value):
            self.errors[name] = "must be valid text (UTF-8)"
        elif MARKUP.search(value):
            self.errors[name] = "must not contain HTML tags"
        elif pattern is not None and value and not pattern.match(value):
            self.errors[name] = "has characters that are not allowed"
        else:
            return value or None
        return None

    def integer(self, name: str, *, minimum: int, maximum: int, required: bool = True,
                default: int | None = None) -> int | None:
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors[name] = "must be a whole number"
            return None
        if not minimum <= value <= maximum:
            self.errors[name] = f"must be between {minimum} and {maximum}"
            return None
        return value

    def cents(self, name: str, *, required: bool = True, default: int | None = None) -> int | None:
        return self.integer(name, minimum=0, maximum=min(MAX_CENTS, MAX_STORED_INT),
                            required=required, default=default)

    def quantity(self, name: str, *, minimum: int = 1, required: bool = True) -> int | None:
        return self.integer(name, minimum=minimum, maximum=MAX_QUANTITY, required=required)

    def boolean(self, name: str, *, required: bool = True, default: bool = False) -> bool:
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.errors[name] = "must be true or false"
            return default
        return value

    def date(self, name: str, *, required: bool = True) -> date | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.errors[name] = "must be a date YYYY-MM-DD"
            return None
        try:
            return date.fromisoformat(value) if len(value) == 10 else _bad_date()
        except ValueError:
            self.errors[name] = "must be a date YYYY-MM-DD"
            return None

    def choice(self, name: str, choices: tuple[str, ...], *, required: bool = True) -> str | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        if value not in choices:
            self.errors[name] = f"must be one of {', '.join(choices)}"
            return None
        return str(value)

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def finish(self) -> None:
        if self.errors:
            listed = "; ".join(f"{k} {v}" for k, v in sorted(self.errors.items()))
            raise ValidationFailed(f"Some fields are not right: {listed}.",
                                   {"fields": self.errors})


def _encodable(value: str) -> bool:
    # JSON may carry lone surrogates ("\\ud800"), which no database can store.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bad_date() -> date:
    raise ValueError("not a date")

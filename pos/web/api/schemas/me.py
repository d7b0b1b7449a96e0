"""A user's own password and PIN (API.md "Sign-in and sessions")."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from pos.domain.pins import PIN_PATTERN
from pos.services.staff import MIN_PASSWORD_LENGTH
from pos.web.api.schemas.types import StrictModel

MAX_SECRET_LENGTH = 200


def _secret_rule(value: str) -> str:
    # Kept as typed (no stripping: a space may be part of a password), but it must be text
    # Argon2 can hash: no NUL, no lone surrogate.
    if "\x00" in value:
        raise PydanticCustomError("secret_rule", "must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("secret_rule", "must be valid text (UTF-8)") from None
    return value


Secret = Annotated[str, Field(min_length=1, max_length=MAX_SECRET_LENGTH),
                   AfterValidator(_secret_rule)]


class PasswordChange(StrictModel):
    current_password: Secret
    new_password: Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH,
                                       max_length=MAX_SECRET_LENGTH),
                            AfterValidator(_secret_rule)]


class PinChange(StrictModel):
    pin: Annotated[str, Field(pattern=f"^{PIN_PATTERN.pattern}$")]
    current_password: Secret

"""Staff accounts and the audit trail (API.md "Sign-in and sessions")."""
from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Len
from pydantic import Field

from pos.web.api.schemas.queries import PageQuery
from pos.web.api.schemas.types import Day, Id, SafeText, StrictModel

RoleName = Literal["front_desk", "provider", "manager", "admin"]
# One to four roles; a role named twice is the same role.
RoleList = Annotated[list[RoleName], Len(min_length=1, max_length=4)]
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class NewUserIn(StrictModel):
    email: Annotated[str, SafeText(254, pattern=EMAIL_PATTERN,
                                   pattern_problem="is not an email address")]
    name: Annotated[str, SafeText(120)]
    roles: RoleList


class UserPatch(StrictModel):
    roles: RoleList | None = None
    active: bool | None = None
    # Where the user works unless a sign-in chooses otherwise (an unknown id: 404).
    home_location_id: Id | None = None


class NewTokenIn(StrictModel):
    # The token works through this day (clinic time); absent: no expiry.
    expires_on: Day | None = None


class AuditQuery(PageQuery):
    user_id: Id | None = None
    action: Annotated[str, SafeText(60, optional=True)] | None = None
    # Clinic days, both included.
    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None

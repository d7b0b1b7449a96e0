"""Clients: one model for the API and the checkout's "new client" form, a PATCH, a merge."""
from __future__ import annotations

from typing import Annotated, Any

from pos.services.clients import MAX_ALLERGIES, MAX_EMAIL, MAX_NAME, MAX_NOTES, MAX_PHONE
from pos.web.api.schemas.queries import PageQuery, SearchText
from pos.web.api.schemas.types import Day, Id, SafeText, StrictModel

Name = Annotated[str, SafeText(MAX_NAME)]
Email = Annotated[str, SafeText(MAX_EMAIL, optional=True)]
Phone = Annotated[str, SafeText(MAX_PHONE, optional=True, pattern=r"^[0-9 +()\-]+$")]
Notes = Annotated[str, SafeText(MAX_NOTES, optional=True, multiline=True)]
Allergies = Annotated[str, SafeText(MAX_ALLERGIES, optional=True, multiline=True)]


class NewClientIn(StrictModel):
    # The email and phone rules (form of an address, digits of a phone) are the service's,
    # which the page form shares; here they are held to the common text rule.
    first_name: Name
    last_name: Name
    email: Email | None = None
    phone: Phone | None = None
    date_of_birth: Day | None = None
    notes: Notes | None = None
    # Clinical: only a user holding provider may send it (else 403).
    allergies: Allergies | None = None
    # A client with the same name and email or phone exists (409 possible_duplicate):
    # true creates this one anyway.
    confirm_new: bool = False


class ClientPatch(StrictModel):
    """Only the fields named change; null (or empty text) clears an optional one."""

    first_name: Name | None = None
    last_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    date_of_birth: Day | None = None
    notes: Notes | None = None
    allergies: Allergies | None = None

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class MergeIn(StrictModel):
    into_id: Id


class ClientsPageQuery(PageQuery):
    q: SearchText | None = None

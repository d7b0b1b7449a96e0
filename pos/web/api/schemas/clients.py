"""Clients: one model for the API and the checkout's "new client" form."""
from __future__ import annotations

from typing import Annotated

from pos.services.clients import MAX_EMAIL, MAX_NAME, MAX_PHONE
from pos.web.api.schemas.types import SafeText, StrictModel


class NewClientIn(StrictModel):
    # The email and phone rules (form of an address, digits of a phone) are the service's,
    # which the page form shares; here they are held to the common text rule.
    first_name: Annotated[str, SafeText(MAX_NAME)]
    last_name: Annotated[str, SafeText(MAX_NAME)]
    email: Annotated[str, SafeText(MAX_EMAIL, optional=True)] | None = None
    phone: Annotated[str, SafeText(MAX_PHONE, optional=True,
                                   pattern=r"^[0-9 +()\-]+$")] | None = None

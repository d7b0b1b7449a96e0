"""Stripe Terminal: registering a card reader."""
from __future__ import annotations

from typing import Annotated

from pos.web.api.schemas.types import SafeText, StrictModel


class NewReaderIn(StrictModel):
    """`registration_code`: what the reader shows (test mode: `simulated-wpe`)."""

    registration_code: Annotated[str, SafeText(100)]
    label: Annotated[str, SafeText(100)]

"""Locations and transfers between them, as rules on plain values."""
from __future__ import annotations

import re
import secrets

from pos.domain.errors import Conflict, ValidationFailed

TRANSFER_OUT = "transfer_out"
TRANSFER_IN = "transfer_in"
LOCATION_NAME_MAX = 120


class LocationExists(Conflict):
    code = "location_exists"


def clean_location_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationFailed("Give the location a name.", {"fields": {"name": "required"}})
    if len(cleaned) > LOCATION_NAME_MAX:
        raise ValidationFailed(f"A location's name is at most {LOCATION_NAME_MAX} characters.",
                               {"fields": {"name": "too long"}})
    return cleaned


def location_code(name: str) -> str:
    """A short unique code for a new location: its name's letters and a random suffix."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:12] or "loc"
    return f"{stem}-{secrets.token_hex(3)}"


def check_transfer(quantity: int, from_location_id: int, to_location_id: int) -> None:
    """A transfer moves at least one unit from one place to another place."""
    if from_location_id == to_location_id:
        raise ValidationFailed(
            "A transfer goes from one location to another: choose two different locations.",
            {"fields": {"to_location": "same as from_location"}})
    if quantity < 1:
        raise ValidationFailed("Transfer at least 1.",
                               {"fields": {"quantity": "must be at least 1"}})


def transfer_reference(direction: str, other_location_id: int) -> str:
    """The ledger row's reference names the other location: `transfer_to:3`."""
    return f"{'transfer_to' if direction == TRANSFER_OUT else 'transfer_from'}:{other_location_id}"

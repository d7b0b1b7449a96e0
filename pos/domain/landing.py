"""Where a person lands after signing in (issue 11), chosen from the roles they hold.

A set of role names, so it holds whether a user has one role (today) or several.
"""
from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Landing(StrEnum):
    ALERTS = "alerts"
    TODAY = "today"
    CHECKOUT = "checkout"


# The first of these the user holds wins. An admin runs the clinic like a manager.
_ORDER = (
    ({"manager", "admin"}, Landing.ALERTS),
    ({"provider"}, Landing.TODAY),
    ({"front_desk"}, Landing.CHECKOUT),
)


def landing_for(role_names: Iterable[str]) -> Landing:
    held = set(role_names)
    for roles, landing in _ORDER:
        if held & roles:
            return landing
    return Landing.CHECKOUT

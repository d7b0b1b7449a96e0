"""The staff PIN: 4 to 8 digits, unlocking an idle desk for someone who signed in on it."""
from __future__ import annotations

import re

PIN_PATTERN = re.compile(r"[0-9]{4,8}")


def is_valid_pin(pin: str) -> bool:
    return PIN_PATTERN.fullmatch(pin) is not None

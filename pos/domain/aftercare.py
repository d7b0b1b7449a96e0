"""Aftercare: the sheet a client gets after a treatment (clinic data, with DOMAIN.md's
default), and the email that carries it with the next eligible date of their series.

Pure. The email names no condition, answer or note: only the sheet and a date.
"""
from __future__ import annotations

from datetime import date

MAX_SHEET_TEXT = 20_000

DEFAULT_AFTERCARE_TEXT = """\
Aftercare after microneedling

- Your skin will be red and may feel warm, tight or sensitive: this is expected and \
usually settles within 24 to 48 hours.
- For relief, mist the area with the Copper + HA Mist as often as you like, and apply \
the HA serum morning and evening.
- For 24 hours: no make-up, no exercise that makes you sweat, no swimming, sauna or hot \
tub, and do not touch or pick at the skin.
- For 3 to 5 days: no retinoids, acids (AHA/BHA), exfoliants or vitamin C serums; \
avoid the sun and use a mineral sunscreen (SPF 30 or more) once the skin has calmed.
- Call the clinic if you have increasing pain, swelling, pus, a fever, blisters or cold \
sores.
"""


def aftercare_email(clinic_name: str, sheet: str, next_eligible_on: date | None,
                    sessions_left: int) -> tuple[str, str]:
    """(subject, body) of the aftercare email."""
    subject = f"Your aftercare - {clinic_name}"
    if sessions_left > 0 and next_eligible_on is not None:
        plan = (f"Your next session of this series can be booked from "
                f"{next_eligible_on.isoformat()} ({sessions_left} left). Sessions work best "
                "4 to 6 weeks apart.")
    elif sessions_left > 0:
        plan = f"You have {sessions_left} sessions left in this series."
    else:
        plan = "This was the last session of your series."
    body = f"Thank you for your visit to {clinic_name}.\n\n{sheet.strip()}\n\n{plan}\n"
    return subject, body

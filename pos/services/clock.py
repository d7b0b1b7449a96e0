"""The clinic's "now" and "today": UTC in the database, the clinic's zone for dates.

The zone is the clinic's setting in the database (pos/services/clinic.py). Pass it in
(`today(zone)`, `clinic_date(at, zone)`) where the caller already holds the clinic's
settings; without it, the zone is read through the clinic settings of the current
database session (cached per process: no statement on a signed-in request).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pos.extensions import db
from pos.models.types import simulated_now, utcnow


def now() -> datetime:
    return utcnow()


@contextmanager
def travel_to(at: datetime) -> Iterator[None]:
    """Inside, `now()` and every timestamp column's default read `at` (aware UTC).

    For writing history through the services as they would have written it then (the
    demo clinic's past year, pos/seed/); the services themselves never call it.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("travel_to needs an aware datetime")
    token = simulated_now.set(at)
    try:
        yield
    finally:
        simulated_now.reset(token)


def clinic_zone() -> ZoneInfo:
    from pos.services.clinic import clinic_settings

    return clinic_settings(db.session()).zone


def clinic_date(at: datetime, zone: ZoneInfo | None = None) -> date:
    return at.astimezone(zone or clinic_zone()).date()


def today(zone: ZoneInfo | None = None) -> date:
    return clinic_date(now(), zone)

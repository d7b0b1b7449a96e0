"""The clinic's "now" and "today": UTC in the database, the clinic's zone for dates.

The zone is the clinic's setting in the database (pos/services/clinic.py). Pass it in
(`today(zone)`, `clinic_date(at, zone)`) where the caller already holds the clinic's
settings; without it, the zone is read through the clinic settings of the current
database session (cached per process: no statement on a signed-in request).
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from pos.extensions import db


def now() -> datetime:
    return datetime.now(UTC)


def clinic_zone() -> ZoneInfo:
    from pos.services.clinic import clinic_settings

    return clinic_settings(db.session()).zone


def clinic_date(at: datetime, zone: ZoneInfo | None = None) -> date:
    return at.astimezone(zone or clinic_zone()).date()


def today(zone: ZoneInfo | None = None) -> date:
    return clinic_date(now(), zone)

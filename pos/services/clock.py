"""The clinic's "now" and "today": UTC in the database, the clinic's zone for dates."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    return datetime.now(UTC)


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def clinic_date(at: datetime) -> date:
    return at.astimezone(clinic_zone()).date()


def today() -> date:
    return clinic_date(now())

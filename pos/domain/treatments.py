"""Rules about recorded treatments: where a series stands, and the same-day undo window.

Pure (no Flask, no database). Dates are clinic-local calendar dates.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pos.domain.errors import PosError, ValidationFailed
from pos.domain.series import next_eligible_on


class PurchaseMismatch(PosError):
    """The package purchase belongs to another client."""

    code = "purchase_mismatch"
    status = 422


class WrongArea(PosError):
    """A face package redeemed on the scalp, or the reverse."""

    code = "wrong_area"
    status = 422


class VoidWindowPassed(PosError):
    code = "void_window_passed"
    status = 422


class AlreadyVoided(PosError):
    code = "already_voided"
    status = 409


@dataclass(frozen=True)
class Progress:
    """Where one purchased series stands on `today`."""

    sessions_left: int
    next_eligible_on: date | None  # None: no session left, or none performed yet (any day)
    eligible_today: bool
    # Human-readable notes for the provider: gaps longer than recommended, an overdue session.
    warnings: tuple[str, ...]
    off_rhythm: bool


def series_progress(
    session_dates: Sequence[date],
    sessions_left: int,
    today: date,
    min_days: int,
    max_days: int | None,
) -> Progress:
    """Summarise a series from the dates of its (non-voided) sessions, in any order."""
    dates = sorted(session_dates)
    warnings: list[str] = []
    if max_days is not None:
        for number, (before, after) in enumerate(zip(dates, dates[1:], strict=False), start=2):
            gap = (after - before).days
            if gap > max_days:
                warnings.append(
                    f"Session {number} came {gap} days after the previous one "
                    f"(recommended at most {max_days})."
                )
    last = dates[-1] if dates else None
    if sessions_left <= 0:
        return Progress(0, None, False, tuple(warnings), bool(warnings))
    eligible_on = next_eligible_on(last, min_days)
    if last is not None and max_days is not None:
        overdue_from = last + timedelta(days=max_days)
        if today > overdue_from:
            warnings.append(
                f"Next session overdue: recommended by {overdue_from.isoformat()} "
                f"({max_days} days after the last one)."
            )
    return Progress(
        sessions_left=sessions_left,
        next_eligible_on=eligible_on,
        eligible_today=eligible_on is None or today >= eligible_on,
        warnings=tuple(warnings),
        off_rhythm=bool(warnings),
    )


def check_void_window(recorded_on: date, today: date, *, provider_manager: bool) -> None:
    """A treatment recorded by mistake may be voided by a provider on the clinic day it was
    recorded; later, only by a provider who is also a manager (the medical director), since
    the day's counts and reports have been read by then."""
    if recorded_on != today and not provider_manager:
        raise VoidWindowPassed(
            f"A treatment recorded on an earlier day ({recorded_on.isoformat()}) can only "
            "be voided by a provider who is also a manager.",
            {"recorded_on": recorded_on.isoformat()},
        )


# The MDPen's needle depth range, in mm.
NEEDLE_DEPTH_MIN_MM = 0.25
NEEDLE_DEPTH_MAX_MM = 2.5
MAX_PASSES = 20
NOTES_MAX = 2000
DEVICE_MAX = 60


@dataclass(frozen=True)
class TreatmentSettings:
    """What the provider set the pen to: one needle depth per treatment (on its area)."""

    needle_depth_mm: float
    passes: int | None = None
    device: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"needle_depth_mm": self.needle_depth_mm, "passes": self.passes,
                "device": self.device}


def check_settings(settings: TreatmentSettings) -> TreatmentSettings:
    """The settings as stored (depth to 0.01 mm), or ValidationFailed naming the field."""
    depth = settings.needle_depth_mm
    if isinstance(depth, bool) or not isinstance(depth, int | float) \
            or not NEEDLE_DEPTH_MIN_MM <= depth <= NEEDLE_DEPTH_MAX_MM:
        raise ValidationFailed(
            f"The needle depth must be {NEEDLE_DEPTH_MIN_MM}-{NEEDLE_DEPTH_MAX_MM} mm.",
            {"fields": {"settings.needle_depth_mm":
                        f"must be {NEEDLE_DEPTH_MIN_MM} to {NEEDLE_DEPTH_MAX_MM}"}})
    if settings.passes is not None and not 1 <= settings.passes <= MAX_PASSES:
        raise ValidationFailed(f"Passes must be 1-{MAX_PASSES}.",
                               {"fields": {"settings.passes": f"must be 1 to {MAX_PASSES}"}})
    return TreatmentSettings(round(float(depth), 2), settings.passes, settings.device)

"""Pre-treatment screening: who may be treated today, and what the provider must acknowledge.

Pure rules (no Flask, no database) so every clinical branch is unit-testable. Screening
answers are health information: error messages and details name the failing conditions
only, never the answers themselves.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pos.domain.errors import PosError
from pos.domain.limits import MAX_DATE, MIN_DATE

BOTOX_WAIT_DAYS = 14
BOTOX_KEY = "last_botox_on"

# date.fromisoformat also accepts "20260315", week dates, etc.; the API promises YYYY-MM-DD.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Severity(StrEnum):
    CONTRAINDICATED = "contraindicated"  # no procedure at all
    AVOID_AREA = "avoid_area"  # allowed only around the affected area, once acknowledged
    CAUTION = "caution"  # allowed once the provider acknowledges it


@dataclass(frozen=True)
class Condition:
    key: str
    severity: Severity
    label: str


# Table order is the order conditions are reported in (and the API's documented key order).
CONDITIONS: tuple[Condition, ...] = (
    Condition("pregnant_or_nursing", Severity.CONTRAINDICATED, "Pregnant or nursing"),
    Condition("scleroderma", Severity.CONTRAINDICATED, "Scleroderma"),
    Condition("collagen_vascular_disease", Severity.CONTRAINDICATED, "Collagen vascular disease"),
    Condition("cardiac_abnormalities", Severity.CONTRAINDICATED, "Cardiac abnormalities"),
    Condition("active_infection", Severity.CONTRAINDICATED,
              "Active bacterial or fungal infection"),
    Condition("bleeding_disorder_or_blood_thinners", Severity.CONTRAINDICATED,
              "Blood clotting problems or blood thinners"),
    Condition("immunosuppressed", Severity.CONTRAINDICATED,
              "Immunosuppressed condition or medication"),
    Condition("scar_under_6_months", Severity.CONTRAINDICATED, "Scar less than 6 months old"),
    Condition("pustular_or_nodular_rosacea_or_acne", Severity.CONTRAINDICATED,
              "Pustular or nodular rosacea or acne"),
    Condition("active_skin_cancer_or_actinic_keratosis", Severity.AVOID_AREA,
              "Active skin cancer or actinic keratosis"),
    Condition("raised_moles", Severity.AVOID_AREA, "Raised moles"),
    Condition("warts", Severity.AVOID_AREA, "Warts"),
    Condition("active_herpes", Severity.AVOID_AREA, "Active herpes infection"),
    Condition("keloid_history", Severity.CAUTION, "History of keloid or raised scarring"),
    Condition("diabetes", Severity.CAUTION, "Diabetes"),
    Condition("eczema", Severity.CAUTION, "Eczema"),
    Condition("psoriasis", Severity.CAUTION, "Psoriasis"),
)

CONDITIONS_BY_KEY: Mapping[str, Condition] = {c.key: c for c in CONDITIONS}
BOOLEAN_KEYS: tuple[str, ...] = tuple(c.key for c in CONDITIONS)
ALL_KEYS: tuple[str, ...] = (*BOOLEAN_KEYS, BOTOX_KEY)


def _keys_of(severity: Severity) -> tuple[str, ...]:
    return tuple(c.key for c in CONDITIONS if c.severity is severity)


CONTRAINDICATIONS: tuple[str, ...] = _keys_of(Severity.CONTRAINDICATED)
AVOID_AREAS: tuple[str, ...] = _keys_of(Severity.AVOID_AREA)
CAUTIONS: tuple[str, ...] = _keys_of(Severity.CAUTION)
# Only these can be listed in acknowledged_cautions; a contraindication cannot be waived.
ACKNOWLEDGEABLE: frozenset[str] = frozenset(AVOID_AREAS + CAUTIONS)


def _labels(keys: Collection[str]) -> str:
    return ", ".join(CONDITIONS_BY_KEY[k].label for k in keys)


class ScreeningIncomplete(PosError):
    """The screening (or the acknowledgement list) is not a complete, well-typed answer set."""

    code = "screening_incomplete"
    status = 422


class Contraindicated(PosError):
    code = "contraindicated"
    status = 422


class BotoxWait(PosError):
    code = "botox_wait"
    status = 422


class AvoidArea(PosError):
    code = "avoid_area"
    status = 422


class CautionNotAcknowledged(PosError):
    code = "caution_not_acknowledged"
    status = 422


@dataclass(frozen=True)
class ScreeningAnswers:
    """A complete screening: which conditions were answered yes, and the last Botox date."""

    flags: frozenset[str]
    last_botox_on: date | None

    def __post_init__(self) -> None:
        # Guards direct construction (e.g. from stored JSON) against typos in keys.
        unknown = self.flags - CONDITIONS_BY_KEY.keys()
        if unknown:
            raise ValueError(f"unknown screening keys: {sorted(unknown)}")

    def to_json(self) -> dict[str, Any]:
        """Every key, explicitly, so the stored record shows what was asked as well as answered."""
        out: dict[str, Any] = {key: key in self.flags for key in BOOLEAN_KEYS}
        out[BOTOX_KEY] = self.last_botox_on.isoformat() if self.last_botox_on else None
        return out


@dataclass(frozen=True)
class Verdict:
    """What the provider acknowledged and that applied to this client, for the treatment record."""

    cautions: tuple[str, ...]
    avoided_areas: tuple[str, ...]


def _parse_date(value: object) -> date | None:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:  # e.g. 2026-02-30
        return None
    # 9999-12-31 plus a wait of days would overflow; no real answer is outside the range.
    return parsed if MIN_DATE <= parsed <= MAX_DATE else None


def parse_answers(raw: object) -> ScreeningAnswers:
    """Validate the decoded JSON `screening` object.

    Strict on purpose: a clinical answer must be an explicit true/false, never a 0/1 or
    "yes" that might have been defaulted by a form. Errors name keys, never values.
    """
    if not isinstance(raw, dict):
        raise ScreeningIncomplete(
            "The screening must be an object with one answer per question.",
            {"missing": [], "invalid": ["screening"], "unknown": []},
        )
    missing = sorted(k for k in ALL_KEYS if k not in raw)
    invalid = sorted(k for k in BOOLEAN_KEYS if k in raw and type(raw[k]) is not bool)
    last_botox_on: date | None = None
    if BOTOX_KEY in raw and raw[BOTOX_KEY] is not None:
        last_botox_on = _parse_date(raw[BOTOX_KEY])
        if last_botox_on is None:
            invalid = sorted([*invalid, BOTOX_KEY])
    unknown = sorted(str(k) for k in raw if k not in ALL_KEYS)
    if missing or invalid or unknown:
        parts = []
        if missing:
            parts.append("unanswered: " + ", ".join(missing))
        if invalid:
            parts.append("not a valid answer: " + ", ".join(invalid))
        if unknown:
            parts.append("not a screening question: " + ", ".join(unknown))
        raise ScreeningIncomplete(
            "The screening is incomplete (" + "; ".join(parts) + "). "
            "Each question needs a true/false answer and last_botox_on a YYYY-MM-DD date or null.",
            {"missing": missing, "invalid": invalid, "unknown": unknown},
        )
    flags = frozenset(k for k in BOOLEAN_KEYS if raw[k] is True)
    return ScreeningAnswers(flags=flags, last_botox_on=last_botox_on)


def _check_acknowledged(acknowledged: Collection[str]) -> frozenset[str]:
    # A bare string is a Collection[str] too; iterating it would acknowledge single letters.
    if isinstance(acknowledged, (str, bytes)) or not all(
        isinstance(k, str) for k in acknowledged
    ):
        raise ScreeningIncomplete(
            "acknowledged_cautions must be a list of condition keys.",
            {"invalid": ["acknowledged_cautions"]},
        )
    invalid = sorted(set(acknowledged) - ACKNOWLEDGEABLE)
    if invalid:
        raise ScreeningIncomplete(
            "acknowledged_cautions may only list caution or avoid-area conditions; "
            "not acceptable: " + ", ".join(invalid) + ".",
            {"invalid": invalid},
        )
    return frozenset(acknowledged)


def screen(answers: ScreeningAnswers, acknowledged: Collection[str], today: date) -> Verdict:
    """Decide whether the procedure may go ahead today; raise the first rule that refuses it.

    Order matters: an absolute refusal (contraindication) is reported before a wait, and a
    wait before anything the provider could fix by acknowledging. `today` is the clinic's
    local date (see clinic_today).
    """
    acked = _check_acknowledged(acknowledged)

    contraindications = [k for k in CONTRAINDICATIONS if k in answers.flags]
    if contraindications:
        raise Contraindicated(
            "Treatment cannot be performed: contraindicated ("
            + _labels(contraindications) + ").",
            {"contraindications": contraindications},
        )

    if answers.last_botox_on is not None:
        eligible_on = answers.last_botox_on + timedelta(days=BOTOX_WAIT_DAYS)
        if today < eligible_on:
            raise BotoxWait(
                f"Treatment must wait at least {BOTOX_WAIT_DAYS} days after a Botox "
                f"injection: eligible on or after {eligible_on.isoformat()}.",
                {"eligible_on": eligible_on.isoformat()},
            )

    avoid = [k for k in AVOID_AREAS if k in answers.flags]
    unacked_avoid = [k for k in avoid if k not in acked]
    if unacked_avoid:
        raise AvoidArea(
            "The affected area must be avoided (" + _labels(unacked_avoid) + "); the "
            "provider must acknowledge treating around it.",
            {"conditions": unacked_avoid},
        )

    cautions = [k for k in CAUTIONS if k in answers.flags]
    unacked_cautions = [k for k in cautions if k not in acked]
    if unacked_cautions:
        raise CautionNotAcknowledged(
            "The provider must acknowledge these cautions before treating ("
            + _labels(unacked_cautions) + ").",
            {"cautions": unacked_cautions},
        )

    return Verdict(cautions=tuple(cautions), avoided_areas=tuple(avoid))


def clinic_today(now_utc: datetime, tz: ZoneInfo) -> date:
    """The clinic's local calendar date: day-counting rules (Botox wait, series spacing)
    are in clinic days, not UTC days, or an evening visit would count as tomorrow."""
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    return now_utc.astimezone(tz).date()

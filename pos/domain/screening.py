"""Pre-treatment screening: who may be treated today, and what the provider must acknowledge.

The questions are clinic data, in versions (a `Questionnaire`): each has a type (boolean or
date) and a rule (contraindicated, avoid the area, a caution to acknowledge, or wait N days
after the date). `screen` is a pure function over (questionnaire, answers, history, today).

Pure rules (no Flask, no database) so every clinical branch is unit-testable. Screening
answers are health information: error messages and details name the failing conditions
only, never the answers themselves.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pos.domain.errors import PosError
from pos.domain.limits import MAX_DATE, MIN_DATE
from pos.domain.questionnaire import (
    ACKNOWLEDGEABLE,
    ALL_KEYS,
    AVOID_AREAS,
    BASE_QUESTIONNAIRE,
    BOOLEAN,
    BOOLEAN_KEYS,
    BOTOX_KEY,
    BOTOX_WAIT_DAYS,
    CAUTIONS,
    CONDITIONS,
    CONDITIONS_BY_KEY,
    CONTRAINDICATIONS,
    DATE,
    DEFAULT_QUESTIONNAIRE,
    KEY_PATTERN,
    MAX_QUESTIONS,
    MAX_WAIT_DAYS,
    QUESTION_TEXT_MAX,
    QUESTION_TYPES,
    Condition,
    Question,
    Questionnaire,
    Rule,
    Severity,
    build_questionnaire,
)

# The questions live in pos/domain/questionnaire.py; they stay importable from here.
__all__ = [
    "ACKNOWLEDGEABLE",
    "ALL_KEYS",
    "AVOID_AREAS",
    "AvoidArea",
    "BASE_QUESTIONNAIRE",
    "BOOLEAN",
    "BOOLEAN_KEYS",
    "BOTOX_KEY",
    "BOTOX_WAIT_DAYS",
    "BotoxWait",
    "CAUTIONS",
    "CONDITIONS",
    "CONDITIONS_BY_KEY",
    "CONTRAINDICATIONS",
    "CautionNotAcknowledged",
    "Condition",
    "Contraindicated",
    "DATE",
    "DEFAULT_QUESTIONNAIRE",
    "KEY_PATTERN",
    "MAX_QUESTIONS",
    "MAX_WAIT_DAYS",
    "QUESTION_TEXT_MAX",
    "QUESTION_TYPES",
    "Question",
    "Questionnaire",
    "Rule",
    "ScreeningAnswers",
    "ScreeningIncomplete",
    "Severity",
    "Verdict",
    "WaitRequired",
    "build_questionnaire",
    "clinic_today",
    "parse_answers",
    "screen",
]

# date.fromisoformat also accepts "20260315", week dates, etc.; the API promises YYYY-MM-DD.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class WaitRequired(PosError):
    """A date question's wait is not over (Botox keeps its own code, botox_wait)."""

    code = "wait_required"
    status = 422


def _labels(keys: Collection[str], questionnaire: Questionnaire | None = None) -> str:
    if questionnaire is None:
        return ", ".join(CONDITIONS_BY_KEY[k].label for k in keys)
    return ", ".join(questionnaire.text_of(k) for k in keys)


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
    """A complete screening: the yes/no questions answered yes, and the date answers
    (`last_botox_on`, and the questionnaire's other date questions in `other_dates`)."""

    flags: frozenset[str]
    last_botox_on: date | None
    other_dates: tuple[tuple[str, date | None], ...] = ()

    def __post_init__(self) -> None:
        # Guards direct construction (e.g. from stored JSON) against misspelt keys.
        bad = [k for k in self.flags if not KEY_PATTERN.fullmatch(k)]
        bad += [k for k, _ in self.other_dates if not KEY_PATTERN.fullmatch(k)]
        if bad:
            raise ValueError(f"not screening keys: {sorted(bad)}")

    def date_of(self, key: str) -> date | None:
        if key == BOTOX_KEY:
            return self.last_botox_on
        return dict(self.other_dates).get(key)

    def to_json(self, questionnaire: Questionnaire = BASE_QUESTIONNAIRE) -> dict[str, Any]:
        """Every key, explicitly, so the stored record shows what was asked as well as
        answered."""
        out: dict[str, Any] = {}
        for question in questionnaire.questions:
            if question.type == BOOLEAN:
                out[question.key] = question.key in self.flags
            else:
                day = self.date_of(question.key)
                out[question.key] = day.isoformat() if day else None
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


def parse_answers(raw: object,
                  questionnaire: Questionnaire = BASE_QUESTIONNAIRE) -> ScreeningAnswers:
    """Validate the decoded JSON `screening` object against the questionnaire's questions.

    Strict on purpose: a clinical answer must be an explicit true/false (a date question a
    YYYY-MM-DD date or null for "none"), never a 0/1 or "yes" that might have been
    defaulted by a form; an absent key is not an answer. Errors name keys, never values.
    """
    if not isinstance(raw, dict):
        raise ScreeningIncomplete(
            "The screening must be an object with one answer per question.",
            {"missing": [], "invalid": ["screening"], "unknown": [],
             "questionnaire_version": questionnaire.version},
        )
    keys = questionnaire.keys
    missing = sorted(k for k in keys if k not in raw)
    invalid = sorted(k for k in questionnaire.boolean_keys
                     if k in raw and type(raw[k]) is not bool)
    dates: dict[str, date | None] = {}
    for key in questionnaire.date_keys:
        if key in raw and raw[key] is not None:
            dates[key] = _parse_date(raw[key])
            if dates[key] is None:
                invalid = sorted([*invalid, key])
        else:
            dates[key] = None
    unknown = sorted(str(k) for k in raw if k not in keys)
    if missing or invalid or unknown:
        parts = []
        if missing:
            parts.append("unanswered: " + ", ".join(missing))
        if invalid:
            parts.append("not a valid answer: " + ", ".join(invalid))
        if unknown:
            parts.append("not a screening question: " + ", ".join(unknown))
        raise ScreeningIncomplete(
            "The screening is incomplete (" + "; ".join(parts) + "). Each yes/no question "
            "needs a true/false answer and each date question a YYYY-MM-DD date or null "
            f"(questionnaire version {questionnaire.version}).",
            {"missing": missing, "invalid": invalid, "unknown": unknown,
             "questionnaire_version": questionnaire.version},
        )
    flags = frozenset(k for k in questionnaire.boolean_keys if raw[k] is True)
    return ScreeningAnswers(
        flags=flags, last_botox_on=dates.pop(BOTOX_KEY, None),
        other_dates=tuple(sorted(dates.items())))


def _check_acknowledged(acknowledged: Collection[str],
                        questionnaire: Questionnaire) -> frozenset[str]:
    # A bare string is a Collection[str] too; iterating it would acknowledge single letters.
    if isinstance(acknowledged, (str, bytes)) or not all(
        isinstance(k, str) for k in acknowledged
    ):
        raise ScreeningIncomplete(
            "acknowledged_cautions must be a list of condition keys.",
            {"invalid": ["acknowledged_cautions"]},
        )
    invalid = sorted(set(acknowledged) - questionnaire.acknowledgeable)
    if invalid:
        raise ScreeningIncomplete(
            "acknowledged_cautions may only list caution or avoid-area conditions; "
            "not acceptable: " + ", ".join(invalid) + ".",
            {"invalid": invalid},
        )
    return frozenset(acknowledged)


def _latest_dates(questionnaire: Questionnaire, answers: ScreeningAnswers,
                  history: Iterable[Mapping[str, Any]]) -> dict[str, date]:
    """For each date question, the latest date known: today's answer or any earlier
    visit's (a "none" today does not erase Botox reported at the last visit)."""
    latest: dict[str, date] = {}
    for key in questionnaire.date_keys:
        days = [answers.date_of(key)]
        days += [_parse_date(past.get(key)) for past in history if isinstance(past, Mapping)]
        known = [d for d in days if d is not None]
        if known:
            latest[key] = max(known)
    return latest


def screen(answers: ScreeningAnswers, acknowledged: Collection[str], today: date,
           questionnaire: Questionnaire = BASE_QUESTIONNAIRE,
           history: Sequence[Mapping[str, Any]] = ()) -> Verdict:
    """Decide whether the procedure may go ahead today; raise the first rule that refuses it.

    `history`: the screenings stored with the client's earlier treatments (their JSON).
    Order matters: an absolute refusal (contraindication) is reported before a wait, and a
    wait before anything the provider could fix by acknowledging. Of several waits, the one
    that ends last is reported (its date is when the client may be treated); Botox keeps
    its own code. `today` is the clinic's local date (see clinic_today).
    """
    acked = _check_acknowledged(acknowledged, questionnaire)

    contraindications = [k for k in questionnaire.keys_of(Severity.CONTRAINDICATED)
                         if k in answers.flags]
    if contraindications:
        raise Contraindicated(
            "Treatment cannot be performed: contraindicated ("
            + _labels(contraindications, questionnaire) + ").",
            {"contraindications": contraindications},
        )

    waits = []
    for key, day in _latest_dates(questionnaire, answers, history).items():
        question = questionnaire.question(key)
        assert question is not None and question.wait_days is not None
        eligible_on = day + timedelta(days=question.wait_days)
        if today < eligible_on:
            waits.append((eligible_on, key, question.wait_days))
    if waits:
        eligible_on, key, days = max(waits, key=lambda w: w[0])  # first of equal dates
        if key == BOTOX_KEY:
            raise BotoxWait(
                f"Treatment must wait at least {days} days after a Botox "
                f"injection: eligible on or after {eligible_on.isoformat()}.",
                {"eligible_on": eligible_on.isoformat()},
            )
        raise WaitRequired(
            f"Treatment must wait {days} days after: {questionnaire.text_of(key)}. "
            f"Eligible on or after {eligible_on.isoformat()}.",
            {"key": key, "eligible_on": eligible_on.isoformat()},
        )

    avoid = [k for k in questionnaire.keys_of(Severity.AVOID_AREA) if k in answers.flags]
    unacked_avoid = [k for k in avoid if k not in acked]
    if unacked_avoid:
        raise AvoidArea(
            "The affected area must be avoided (" + _labels(unacked_avoid, questionnaire)
            + "); the provider must acknowledge treating around it.",
            {"conditions": unacked_avoid},
        )

    cautions = [k for k in questionnaire.keys_of(Severity.CAUTION) if k in answers.flags]
    unacked_cautions = [k for k in cautions if k not in acked]
    if unacked_cautions:
        raise CautionNotAcknowledged(
            "The provider must acknowledge these cautions before treating ("
            + _labels(unacked_cautions, questionnaire) + ").",
            {"cautions": unacked_cautions},
        )

    return Verdict(cautions=tuple(cautions), avoided_areas=tuple(avoid))


def clinic_today(now_utc: datetime, tz: ZoneInfo) -> date:
    """The clinic's local calendar date: day-counting rules (Botox wait, series spacing)
    are in clinic days, not UTC days, or an evening visit would count as tomorrow."""
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    return now_utc.astimezone(tz).date()

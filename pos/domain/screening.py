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
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pos.domain.errors import PosError, ValidationFailed
from pos.domain.limits import MAX_DATE, MIN_DATE
from pos.domain.text import text_problem

BOTOX_WAIT_DAYS = 14
BOTOX_KEY = "last_botox_on"

# date.fromisoformat also accepts "20260315", week dates, etc.; the API promises YYYY-MM-DD.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Severity(StrEnum):
    """A question's rule."""

    CONTRAINDICATED = "contraindicated"  # no procedure at all
    AVOID_AREA = "avoid_area"  # allowed only around the affected area, once acknowledged
    CAUTION = "caution"  # allowed once the provider acknowledges it
    WAIT_DAYS = "wait_days"  # a date question: no procedure until N days after it


Rule = Severity


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


BOOLEAN = "boolean"
DATE = "date"
QUESTION_TYPES = (BOOLEAN, DATE)
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,63}")
MAX_QUESTIONS = 100
MAX_WAIT_DAYS = 3650
QUESTION_TEXT_MAX = 300


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    type: str  # BOOLEAN or DATE
    rule: Severity
    wait_days: int | None = None  # DATE questions only

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "text": self.text, "type": self.type,
                               "rule": self.rule.value}
        if self.wait_days is not None:
            out["wait_days"] = self.wait_days
        return out


@dataclass(frozen=True)
class Questionnaire:
    """One version of the screening: the questions asked, in the order they are asked."""

    version: int
    questions: tuple[Question, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(q.key for q in self.questions)

    @property
    def boolean_keys(self) -> tuple[str, ...]:
        return tuple(q.key for q in self.questions if q.type == BOOLEAN)

    @property
    def date_keys(self) -> tuple[str, ...]:
        return tuple(q.key for q in self.questions if q.type == DATE)

    def keys_of(self, rule: Severity) -> tuple[str, ...]:
        return tuple(q.key for q in self.questions if q.type == BOOLEAN and q.rule is rule)

    @property
    def acknowledgeable(self) -> frozenset[str]:
        return frozenset(self.keys_of(Severity.AVOID_AREA) + self.keys_of(Severity.CAUTION))

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def text_of(self, key: str) -> str:
        question = self.question(key)
        return question.text if question is not None else key

    def to_json(self) -> list[dict[str, Any]]:
        return [q.to_json() for q in self.questions]


def _base_questions() -> tuple[Question, ...]:
    return (*(Question(c.key, c.label, BOOLEAN, c.severity) for c in CONDITIONS),
            Question(BOTOX_KEY, "Last Botox or other botulinum toxin type A injection",
                     DATE, Severity.WAIT_DAYS, BOTOX_WAIT_DAYS))


# The v1 API's screening (the clinic page's own list): 17 yes/no questions and Botox.
BASE_QUESTIONNAIRE = Questionnaire(0, _base_questions())

# Version 1 as seeded: the base list plus what a medical director adds (DOMAIN.md). It is
# an "unreviewed" template until a provider who is also a manager publishes a version.
DEFAULT_QUESTIONNAIRE = Questionnaire(1, (
    *_base_questions(),
    Question("lidocaine_allergy",
             "Allergy to lidocaine or another local anaesthetic (the procedure numbs with "
             "lidocaine)", BOOLEAN, Severity.CONTRAINDICATED),
    Question("isotretinoin_last_taken_on", "Last isotretinoin (Accutane) taken", DATE,
             Severity.WAIT_DAYS, 183),
    Question("topical_retinoid_last_used_on", "Last topical retinoid used", DATE,
             Severity.WAIT_DAYS, 5),
    Question("sunburn_in_area", "Sunburn on the area to treat", BOOLEAN,
             Severity.CONTRAINDICATED),
    Question("peel_or_laser_last_on",
             "Last superficial chemical peel or non-ablative laser", DATE,
             Severity.WAIT_DAYS, 14),
))


def build_questionnaire(version: int, raw: object) -> Questionnaire:
    """A questionnaire from its JSON (as published or stored), or ValidationFailed naming
    the fields: keys unique and snake_case, a boolean question's rule contraindicated,
    avoid_area or caution, a date question's rule wait_days with 1-3650 days."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUESTIONS:
        raise ValidationFailed(f"A questionnaire has 1 to {MAX_QUESTIONS} questions.",
                               {"fields": {"questions": f"1 to {MAX_QUESTIONS} questions"}})
    problems: dict[str, str] = {}
    questions: list[Question] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"questions.{i}"
        if not isinstance(item, dict):
            problems[where] = "must be an object"
            continue
        key, text, kind = item.get("key"), item.get("text"), item.get("type")
        rule, wait = item.get("rule"), item.get("wait_days")
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
            problems[f"{where}.key"] = "must be snake_case, 2-64 characters"
        elif key in seen:
            problems[f"{where}.key"] = "is asked twice"
        if not isinstance(text, str) or \
                text_problem(text.strip(), max_length=QUESTION_TEXT_MAX) is not None:
            problems[f"{where}.text"] = f"must be plain text of 1-{QUESTION_TEXT_MAX} characters"
        if kind not in QUESTION_TYPES:
            problems[f"{where}.type"] = "must be boolean or date"
        elif kind == BOOLEAN and rule not in (Severity.CONTRAINDICATED, Severity.AVOID_AREA,
                                              Severity.CAUTION):
            problems[f"{where}.rule"] = "a yes/no question is contraindicated, avoid_area " \
                                        "or caution"
        elif kind == DATE and rule != Severity.WAIT_DAYS:
            problems[f"{where}.rule"] = "a date question is wait_days"
        if kind == DATE and (isinstance(wait, bool) or not isinstance(wait, int)
                             or not 1 <= wait <= MAX_WAIT_DAYS):
            problems[f"{where}.wait_days"] = f"must be 1 to {MAX_WAIT_DAYS} days"
        if kind == BOOLEAN and wait is not None:
            problems[f"{where}.wait_days"] = "only a date question waits"
        if isinstance(key, str):
            seen.add(key)
        if not any(f.startswith(where) for f in problems):
            questions.append(Question(key, text.strip(), kind, Severity(rule),
                                      wait if kind == DATE else None))
    if problems:
        raise ValidationFailed("The questionnaire is not valid.", {"fields": problems})
    return Questionnaire(version, tuple(questions))


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

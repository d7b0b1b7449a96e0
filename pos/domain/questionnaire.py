"""The screening's questions as clinic data: the 17 conditions of v1 and Botox, the
questions a medical director adds (DOMAIN.md), and a `Questionnaire` (one version: its
questions, each with a type and a rule) built from its JSON. Pure; pos/domain/screening.py
screens answers against it and re-exports these names.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pos.domain.errors import ValidationFailed
from pos.domain.text import text_problem

BOTOX_WAIT_DAYS = 14
BOTOX_KEY = "last_botox_on"


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

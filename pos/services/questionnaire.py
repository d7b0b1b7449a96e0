"""The screening questionnaire as clinic data: the version in force, any stored version,
and publishing a new one (a provider who is also a manager: the medical director).

The questions are not health information (the answers are); reading them is not audited,
publishing is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.errors import Conflict
from pos.domain.screening import (
    BASE_QUESTIONNAIRE,
    DEFAULT_QUESTIONNAIRE,
    Questionnaire,
    build_questionnaire,
)
from pos.models import ScreeningQuestionnaire
from pos.services import audit, clock, staff
from pos.services.transaction import write_transaction

PUBLISHER_ROLES = ("provider", "manager")


@dataclass(frozen=True)
class InForce:
    questionnaire: Questionnaire
    reviewed: bool  # False: the seeded template nobody has published yet
    published_at: datetime | None = None
    published_by: str | None = None

    @property
    def version(self) -> int:
        return self.questionnaire.version


def _of(row: ScreeningQuestionnaire) -> InForce:
    return InForce(build_questionnaire(row.version, row.questions),
                   row.published_by_id is not None, row.published_at,
                   row.published_by.name if row.published_by is not None else None)


def in_force(session: Session) -> InForce:
    """The highest version; the default template (version 1, unreviewed) when none is
    stored (a database built without the migrations' seed)."""
    row = session.scalar(select(ScreeningQuestionnaire)
                         .order_by(ScreeningQuestionnaire.version.desc()).limit(1))
    return _of(row) if row is not None else InForce(DEFAULT_QUESTIONNAIRE, False)


def by_version(session: Session, version: int | None) -> Questionnaire:
    """The questionnaire a stored screening answered (None: before versions, the base)."""
    if version is None:
        return BASE_QUESTIONNAIRE
    row = session.scalar(select(ScreeningQuestionnaire)
                         .where(ScreeningQuestionnaire.version == version))
    if row is not None:
        return build_questionnaire(row.version, row.questions)
    return DEFAULT_QUESTIONNAIRE if version == DEFAULT_QUESTIONNAIRE.version \
        else BASE_QUESTIONNAIRE


def publish(raw_questions: object, user_id: int | None) -> InForce:
    """Publish the next version; it is in force at once for treatments recorded from now."""
    with write_transaction() as session:
        user = staff.user_holding(session, user_id, *PUBLISHER_ROLES,
                                  why="Publishing the questionnaire needs a provider who is "
                                      "also a manager.")
        latest = session.scalar(select(func.max(ScreeningQuestionnaire.version))) or 0
        version = max(latest, DEFAULT_QUESTIONNAIRE.version) + 1
        questionnaire = build_questionnaire(version, raw_questions)
        row = ScreeningQuestionnaire(version=version, questions=questionnaire.to_json(),
                                     published_at=clock.now(), published_by_id=user.id)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            raise Conflict("Another version was published at the same moment; reload and "
                           "try again.", {"version": version}) from None
        audit.record(session, user.id, "screening.publish", "questionnaire", row.id,
                     version=version, questions=len(questionnaire.questions))
        return InForce(questionnaire, True, row.published_at, user.name)

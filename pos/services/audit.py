"""The audit log: who changed stock, users, settings, sales, and who looked at screenings."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from pos.models import AuditEntry


def record(
    session: Session,
    user_id: int | None,
    action: str,
    entity: str,
    entity_id: object = None,
    **details: Any,
) -> None:
    """Add an audit entry to the current transaction. Pass ids and figures, never PII."""
    session.add(AuditEntry(
        user_id=user_id, action=action, entity=entity,
        entity_id=None if entity_id is None else str(entity_id), details=details,
    ))


@dataclass(frozen=True)
class AuditFilter:
    user_id: int | None = None
    action: str | None = None
    day_from: date | None = None  # clinic days, both included
    day_to: date | None = None


def list_entries(session: Session, wanted: AuditFilter, zone: ZoneInfo, *, page: int,
                 per_page: int) -> tuple[list[AuditEntry], int]:
    """One page of the audit trail, newest first, and how many entries match in all."""
    conditions = []
    if wanted.user_id is not None:
        conditions.append(AuditEntry.user_id == wanted.user_id)
    if wanted.action:
        conditions.append(AuditEntry.action == wanted.action)
    if wanted.day_from is not None:
        conditions.append(AuditEntry.at >= datetime.combine(wanted.day_from, time(), zone))
    if wanted.day_to is not None:
        conditions.append(AuditEntry.at < datetime.combine(wanted.day_to + timedelta(days=1),
                                                           time(), zone))
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions))
    rows = session.scalars(
        select(AuditEntry).options(joinedload(AuditEntry.user)).where(*conditions)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total or 0

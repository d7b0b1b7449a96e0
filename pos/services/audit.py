"""The audit log: who changed stock, users, settings, sales, and who looked at screenings."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

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

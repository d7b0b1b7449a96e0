"""The aftercare sheet (clinic data: the latest saved text, else DOMAIN.md's default) and
the email that carries it to the client after a treatment, through the outbox (written in
the treatment's transaction, delivered by the worker)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos.domain.aftercare import DEFAULT_AFTERCARE_TEXT, MAX_SHEET_TEXT, aftercare_email
from pos.domain.errors import ValidationFailed
from pos.models import AftercareSheet, Client, OutboxMessage
from pos.services import audit, clinic, clock, staff
from pos.services.transaction import write_transaction

TOPIC = "aftercare"


@dataclass(frozen=True)
class Sheet:
    text: str
    is_default: bool
    updated_at: datetime | None = None


def sheet_in_force(session: Session) -> Sheet:
    row = session.scalar(select(AftercareSheet).order_by(AftercareSheet.id.desc()).limit(1))
    if row is None:
        return Sheet(DEFAULT_AFTERCARE_TEXT, True)
    return Sheet(row.text, False, row.created_at)


def save_sheet(text: str, user_id: int | None) -> Sheet:
    """The clinic's own aftercare sheet (a provider who is also a manager)."""
    text = text.strip()
    if not text or len(text) > MAX_SHEET_TEXT or "\x00" in text:
        raise ValidationFailed(f"The aftercare sheet needs 1 to {MAX_SHEET_TEXT} characters.",
                               {"fields": {"text": "is empty or too long"}})
    with write_transaction() as session:
        user = staff.user_holding(session, user_id, "provider", "manager",
                                  why="Saving the aftercare sheet needs a provider who is "
                                      "also a manager.")
        row = AftercareSheet(text=text, created_at=clock.now(), created_by_id=user.id)
        session.add(row)
        session.flush()
        audit.record(session, user.id, "aftercare.save", "aftercare_sheet", row.id)
        return Sheet(row.text, False, row.created_at)


def queue_email(session: Session, client: Client, next_eligible_on: date | None,
                sessions_left: int) -> bool:
    """In the treatment's transaction: the aftercare email to the client, if they have an
    email address. It names no condition, answer or note."""
    if not client.email:
        return False
    subject, body = aftercare_email(clinic.clinic_settings(session).clinic_name,
                                    sheet_in_force(session).text, next_eligible_on,
                                    sessions_left)
    session.add(OutboxMessage(channel="email", topic=TOPIC, recipients=client.email,
                              subject=subject, body=body))
    return True

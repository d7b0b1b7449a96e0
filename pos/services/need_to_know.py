"""Need-to-know: who looked at which client's record, and bulk reading.

Every read of clinical data (screening answers, consents, notes, photos) is written to the
audit log: the reader, the client's id and what kind of record, never its content. Every
look at a client's record (the API's client, the client page, any clinical read) is also
counted per user; more than `bulk_read_limit` within `bulk_read_window_seconds` is a
burst, and the admins are told once per burst by email and in the audit log. A burst
ends when a whole window passes without the user over the limit.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.roles import Role, role_sets_holding
from pos.models import BulkReadBurst, ClientRecordRead, OutboxMessage, User
from pos.services import audit, clock
from pos.settings import Settings

CLINICAL_READ = "clinical.read"
BULK_READ_ALERT = "security.bulk_read"


def note_client_read(session: Session, *, user_id: int, client_id: int, settings: Settings,
                     clinical: str | None = None, record_id: int | None = None) -> None:
    """Record that `user_id` looked at `client_id`'s record; `clinical` names the clinical
    record read ("screening", "consent"...) and `record_id` its row, which is audited. In
    the caller's transaction."""
    now = clock.now()
    if clinical is not None:
        audit.record(session, user_id, CLINICAL_READ, "client", client_id, record=clinical,
                     record_id=record_id)
    window_start = now - timedelta(seconds=settings.bulk_read_window_seconds)
    # This user's older rows are no longer needed: the table stays one window deep.
    session.execute(delete(ClientRecordRead).where(ClientRecordRead.user_id == user_id,
                                                   ClientRecordRead.at < window_start))
    session.add(ClientRecordRead(user_id=user_id, client_id=client_id, at=now))
    session.flush()
    reads = session.scalar(select(func.count()).select_from(ClientRecordRead).where(
        ClientRecordRead.user_id == user_id, ClientRecordRead.at >= window_start)) or 0
    if reads > settings.bulk_read_limit:
        _over_the_limit(session, user_id, reads, now, window_start, settings)


def _over_the_limit(session: Session, user_id: int, reads: int, now: datetime,
                    window_start: datetime, settings: Settings) -> None:
    burst = session.get(BulkReadBurst, user_id, with_for_update=True)
    if burst is not None and burst.last_over_at >= window_start:
        burst.last_over_at = now  # the same burst goes on: the admins know
        return
    if burst is not None:
        burst.started_at = burst.last_over_at = now
    else:
        try:
            with session.begin_nested():
                session.add(BulkReadBurst(user_id=user_id, started_at=now, last_over_at=now))
        except IntegrityError:
            return  # a read running beside this one has just started the burst and told them
    _tell_the_admins(session, user_id, reads, now, settings)


def _tell_the_admins(session: Session, user_id: int, reads: int, now: datetime,
                     settings: Settings) -> None:
    reader = session.get(User, user_id)
    who = f"{reader.name} (user {reader.id})" if reader is not None else f"user {user_id}"
    window = settings.bulk_read_window_seconds
    audit.record(session, None, BULK_READ_ALERT, "user", user_id, reads=reads,
                 window_seconds=window)
    admins = session.scalars(
        select(User.email).where(User.active.is_(True),
                                 User.roles.in_(role_sets_holding(Role.ADMIN)))
        .order_by(User.id)).all()
    if not admins:
        return
    # Staff only: no client's name, id or record leaves the app in this email.
    body = (f"{who} opened {reads} client records within {window} seconds "
            f"(the limit is {settings.bulk_read_limit}), at {now:%Y-%m-%d %H:%M} UTC.\n\n"
            "If this was not expected, review the audit trail and deactivate the account "
            "if needed. You will not be told again about this burst.\n")
    session.add(OutboxMessage(channel="email", topic="security", recipients=", ".join(admins),
                              subject="Bulk reading of client records", body=body))

"""The monthly report by email: which month is due, and queuing it once in the outbox."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pos.domain.reporting import Month
from pos.domain.roles import Role, role_sets_holding
from pos.models import OutboxMessage, User
from pos.services.reports.monthly import clinic_timezone, monthly_report
from pos.services.reports.rendering import report_csv, report_summary
from pos.settings import Settings


def month_to_send(now: datetime, tz: ZoneInfo, digest_hour: int) -> Month | None:
    """The month whose report is due at `now`: last month, once the first day of this
    month has reached DIGEST_HOUR (clinic time). Later days of the month return it too,
    so a server that was down on the 1st still sends it; the dedupe key keeps it to one."""
    local = now.astimezone(tz)
    if local.day == 1 and local.hour < digest_hour:
        return None
    return Month(local.year, local.month).previous


def queue_monthly_report(settings: Settings, now: datetime | None = None) -> int | None:
    """Queue last month's report email for the active managers, once per month.

    Returns the id of the OutboxMessage written, or None when it is not due, already
    queued, or there is no manager to send it to. The report is computed before the
    write transaction, so no write lock is held while it runs.
    """
    from pos.extensions import db
    from pos.services import clock
    from pos.services.clinic import clinic_settings
    from pos.services.transaction import write_transaction

    now = now or clock.now()
    tz = clinic_timezone()
    month = month_to_send(now, tz, settings.digest_hour)
    if month is None:
        return None
    dedupe_key = f"report:{month}"
    session = db.session
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    recipients = list(session.scalars(
        select(User.email).where(User.roles.in_(role_sets_holding(Role.MANAGER)),
                                 User.active.is_(True))
        .order_by(User.email)))
    if not recipients:
        return None
    report = monthly_report(session, month.year, month.month, tz)
    message = OutboxMessage(
        channel="email", topic="report", dedupe_key=dedupe_key,
        recipients=", ".join(recipients),
        subject=f"{clinic_settings(session).clinic_name}: monthly report {month}",
        body=report_summary(report, settings.currency),
        attachments=[{"filename": f"report-{month}.csv", "content_type": "text/csv",
                      "text": report_csv(report)}],
        created_at=now, next_attempt_at=now)
    try:
        with write_transaction() as write:
            write.add(message)
            write.flush()
            return message.id
    except IntegrityError:
        return None  # another worker queued it first



"""Delivering the outbox: claim due rows, send them outside any transaction, record the result.

Several deliverers may run at once (`pos worker` processes on one or more machines, plus
cron running `pos deliver-alerts`). Each claims its rows in one short transaction, with
`FOR UPDATE SKIP LOCKED` on PostgreSQL (BEGIN IMMEDIATE serializes claimers on SQLite),
by pushing their next attempt past a lease; it commits, sends, and then records each
result in a second short transaction. No database lock is held while talking to the
mail server or the webhook, and a row claimed by one deliverer is not due for another.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DDL, event, exists, func, select

from pos.domain.reorder import retry_delay_seconds
from pos.extensions import db
from pos.models import Alert, OutboxMessage
from pos.notify import DeliveryFailed
from pos.notify.smtp import MailSettings, send_email
from pos.notify.webhook import post_json
from pos.services import clock
from pos.services.alerts import alert_recipients
from pos.services.transaction import write_transaction
from pos.settings import Settings, settings_for

log = logging.getLogger("pos.outbox")

# A claimed row is not due again until its lease ends; long enough for the whole batch to
# be sent (each message has at most the SMTP timeout) before anyone may retry it.
LEASE = timedelta(minutes=2)
LEASE_PER_MESSAGE = timedelta(seconds=15)
STAFF_TOPICS = ("alert", "digest")


@dataclass
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    # Email kept in the outbox because no MAIL_SERVER is configured.
    held_without_mail_server: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Job:
    id: int
    channel: str
    recipients: str
    subject: str
    body: str
    attachments: list[dict[str, Any]]


def _due(now: datetime, mail_on: bool) -> Any:
    conditions = [OutboxMessage.delivered_at.is_(None), OutboxMessage.next_attempt_at <= now]
    if not mail_on:
        conditions.append(OutboxMessage.channel != "email")
    return conditions


def _claim(now: datetime, limit: int, mail_on: bool, alert_email_to: str | None) -> list[_Job]:
    # A plain read first: an idle deliverer takes no write lock (SQLite has only one).
    anything = db.session.scalar(select(exists().where(*_due(now, mail_on))))
    db.session.rollback()
    if not anything:
        return []
    with write_transaction() as session:
        query = (select(OutboxMessage).where(*_due(now, mail_on))
                 .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = session.scalars(query).all()
        lease_until = now + LEASE + LEASE_PER_MESSAGE * len(rows)
        jobs = []
        for row in rows:
            row.next_attempt_at = lease_until
            if row.channel == "email" and not row.recipients and row.topic in STAFF_TOPICS:
                # Written when nobody was set to receive alerts: ask again (a manager or
                # ALERT_EMAIL_TO may exist by now).
                row.recipients = alert_recipients(session, alert_email_to)
            jobs.append(_Job(row.id, row.channel, row.recipients, row.subject, row.body,
                             list(row.attachments or [])))
    return jobs


def _send(job: _Job, mail: MailSettings | None, webhook_url: str | None) -> None:
    if job.channel == "email":
        if mail is None:
            raise DeliveryFailed("No MAIL_SERVER is configured.")
        send_email(mail, job.recipients, job.subject, job.body, job.attachments)
    elif job.channel == "webhook":
        if not webhook_url:
            raise DeliveryFailed("ALERT_WEBHOOK_URL is not set.")
        post_json(webhook_url, {"text": job.body})
    else:
        raise DeliveryFailed(f"Unknown channel {job.channel!r}.")


def _record(job: _Job, error: str | None, at: datetime) -> None:
    with write_transaction() as session:
        message = session.get(OutboxMessage, job.id, with_for_update=True)
        if message is None or message.delivered_at is not None:
            return
        if error is None:
            message.delivered_at = at
            message.last_error = None
            message.attempts += 1
            if message.alert_id is not None:
                alert = session.get(Alert, message.alert_id)
                if alert is not None and alert.delivered_at is None:
                    alert.delivered_at = at  # the clinic has been told
        else:
            message.last_error = error[:500]
            message.next_attempt_at = at + timedelta(
                seconds=retry_delay_seconds(message.attempts))
            message.attempts += 1


def deliver_pending(now: datetime | None = None, limit: int = 50, *,
                    settings: Settings | None = None) -> DeliveryReport:
    """Deliver what is due in the outbox; each row is sent by exactly one deliverer.

    `settings`: the mail server, webhook and alert recipients (the worker and the CLI pass
    their app's); None: the settings bound to the database (pos.settings.settings_for).
    """
    settings = settings or settings_for(db.session())
    mail = MailSettings.from_config(settings.flask_config())
    at = now or clock.now()
    report = DeliveryReport()
    if mail is None:
        report.held_without_mail_server = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.delivered_at.is_(None), OutboxMessage.channel == "email")) or 0
        db.session.rollback()
    jobs = _claim(at, limit, mail is not None, settings.alert_email_to)
    report.claimed = len(jobs)
    for job in jobs:
        try:
            _send(job, mail, settings.alert_webhook_url)
        except DeliveryFailed as failure:
            error: str | None = str(failure)
        except Exception as unexpected:  # noqa: BLE001 - one bad message must not stop the rest
            log.exception("outbox message %s could not be sent", job.id)
            error = f"Unexpected error: {type(unexpected).__name__}."
        else:
            error = None
        _record(job, error, now or clock.now())
        if error is None:
            report.delivered += 1
        else:
            report.failed += 1
            report.errors.append(f"message {job.id}: {error}")
    return report


# ------------------------------------------------------------------ waking the workers

# `pos worker` processes LISTEN on this channel (PostgreSQL). A trigger on the outbox
# sends NOTIFY for every statement that inserts rows: NOTIFY is transactional, so it is
# delivered at COMMIT and dropped by a rollback (a worker never wakes for a message that
# does not exist), and it costs the transaction no statement of its own (a cash sale that
# queues its receipt keeps its statement budget) whether the row came from the ORM or a
# Core INSERT. SQLite has no such signal: there the workers poll.
WAKE_CHANNEL = "pos_outbox"
WAKE_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION pos_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{WAKE_CHANNEL}', '');
    RETURN NULL;
END $$
"""
WAKE_TRIGGER_SQL = ("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
                    "FOR EACH STATEMENT EXECUTE FUNCTION pos_outbox_notify()")

# The same trigger for a schema made by create_all (tests); migration c7e1a9d04f3b makes
# it for databases made by `flask db upgrade`.
for _sql in (WAKE_FUNCTION_SQL, WAKE_TRIGGER_SQL):
    event.listen(OutboxMessage.__table__, "after_create",
                 DDL(_sql).execute_if(dialect="postgresql"))

"""`GET /healthz`: what a load balancer or a monitor asks before sending traffic.

No authentication and no personal data: only whether the database answers and how far
behind the outbox (alerts, receipts, reports) is.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, jsonify
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from pos.extensions import db
from pos.models import Alert, OutboxMessage

health_bp = Blueprint("health", __name__)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def health_status() -> tuple[dict, int]:
    """The health document and its HTTP status: 200 if the database answers, 503 if not."""
    session = db.session
    try:
        session.execute(text("SELECT 1"))
        backlog, oldest = session.execute(
            select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at))
            .where(OutboxMessage.delivered_at.is_(None))).one()
        last_outbox = session.scalar(
            select(func.max(OutboxMessage.delivered_at)).where(OutboxMessage.topic == "alert"))
        last_alert = session.scalar(select(func.max(Alert.delivered_at)))
        session.rollback()
    except SQLAlchemyError:
        session.rollback()
        return ({"status": "error", "database": "error", "outbox_backlog": None,
                 "oldest_pending_at": None, "last_alert_delivery_at": None}, 503)
    delivered = [at for at in (last_outbox, last_alert) if at is not None]
    return ({"status": "ok", "database": "ok", "outbox_backlog": int(backlog),
             "oldest_pending_at": _iso(oldest),
             "last_alert_delivery_at": _iso(max(delivered) if delivered else None)}, 200)


@health_bp.route("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    body, status = health_status()
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response

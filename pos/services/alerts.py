"""Stock alerts: low, out and expiring stock, written to the outbox in the causing transaction.

The ledger records each touched item's on-hand stock *before* the transaction's first
change in `session.info`; `check_touched_items` runs just before that transaction commits,
while the stock rows are still locked, and compares before with now. Only the items the
transaction touched are looked at, so the cost does not grow with the catalog. Alerts and
the reorder list follow on_hand (what is on the shelf), not available: a card checkout's
hold is not stock leaving, so it raises nothing until the sale is paid and the units go. A movement
that rolls back takes its alert with it: alert and movement commit together or not at all.
Delivery happens later, outside any transaction (pos/notify/outbox.py).

Settings are passed in (`settings: Settings`); only the before-commit hook, which has no
caller to pass them, reads `settings_for(session)`. The reorder list and its figures live in
pos/services/reorder.py (`reorder_list`, `days_of_cover`, `on_order_by_item` are still
importable from here).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from pos.domain.errors import NotFound
from pos.domain.purchasing import order_after_on_order
from pos.domain.reorder import days_of_cover_from
from pos.domain.roles import Role, role_sets_holding
from pos.domain.stock import reorder_crossing
from pos.extensions import db
from pos.models import (
    Alert,
    Item,
    ItemStock,
    Location,
    Lot,
    LotStock,
    OutboxMessage,
    User,
)
from pos.services import audit, clock
from pos.services.alert_texts import cover_text, expiring_lot_text, stock_alert_text
from pos.services.clinic import clinic_settings
from pos.services.ledger import TOUCHED_KEY
from pos.services.reorder import (
    ReorderRow,
    booked_use_by_item,
    days_of_cover,
    on_order_by_item,
    reorder_list,
    suggested_quantity,
)
from pos.services.transaction import before_commit, write_transaction
from pos.settings import Settings, settings_for

# --------------------------------------------------------------------------- messages

def alert_recipients(session: Session, alert_email_to: str | None) -> str:
    """ALERT_EMAIL_TO (given), or else the active managers' addresses."""
    configured = alert_email_to or ""
    addresses = [a.strip() for a in configured.split(",") if a.strip()]
    if not addresses:
        addresses = list(session.scalars(
            select(User.email).where(User.roles.in_(role_sets_holding(Role.MANAGER)),
                                     User.active.is_(True))
            .order_by(User.id)))
    return ", ".join(addresses)


def _queue(session: Session, settings: Settings, alert: Alert, subject: str, body: str,
           text: str) -> None:
    session.add(OutboxMessage(channel="email", topic="alert", subject=subject, body=body,
                              recipients=alert_recipients(session, settings.alert_email_to),
                              alert=alert))
    if settings.alert_webhook_url:
        # The URL itself is read at delivery time: a Slack hook URL is a secret and
        # stays out of the database.
        session.add(OutboxMessage(channel="webhook", topic="alert", subject=subject,
                                  body=text, alert=alert))


# --------------------------------------------------------------------------- the hook

@before_commit
def check_touched_items(session: Session) -> None:
    """Raise low/out of stock alerts for what this transaction did; runs before it commits."""
    touched: dict[tuple[int, int], int] | None = session.info.pop(TOUCHED_KEY, None)
    if not touched:
        return
    item_ids = sorted({item_id for item_id, _ in touched})
    # The stock rows are locked by this transaction already; these are the same objects.
    rows = session.execute(
        select(ItemStock, Item).join(Item, Item.id == ItemStock.item_id)
        .where(ItemStock.item_id.in_(item_ids))
    ).all()
    crossings = []
    for stock, item in rows:
        before = touched.get((stock.item_id, stock.location_id))
        if before is None:
            continue
        kind = reorder_crossing(before, stock.on_hand, item.reorder_point)
        if kind is not None:
            crossings.append((stock, item, kind))
    if not crossings:
        return
    settings = settings_for(session)  # a hook: nobody to pass them in
    crossed_ids = [item.id for _, item, _ in crossings]
    covers = days_of_cover(session, crossed_ids)
    on_order = on_order_by_item(session, crossed_ids)
    booked = booked_use_by_item(session, crossed_ids)
    # Several locations: each location's stock is checked on its own; the alert says where.
    places = dict(session.execute(select(Location.id, Location.name)).tuples().all())
    named = len(places) > 1
    for stock, item, kind in crossings:
        cover = covers[item.id]
        booked_use = booked.get(item.id, 0)
        suggested = order_after_on_order(
            suggested_quantity(item, cover, settings.reorder_cover_days, booked_use),
            on_order.get(item.id, 0))
        alert = Alert(kind=kind, item_id=item.id, on_hand=stock.on_hand,
                      available=stock.available, reorder_point=item.reorder_point,
                      location_id=stock.location_id if named else None)
        session.add(alert)
        subject, body, text = stock_alert_text(
            kind, item, stock.on_hand, stock.available, suggested,
            days_of_cover_from(cover.on_hand, cover.used_last_30_days, booked_use),
            on_order.get(item.id, 0), places.get(stock.location_id) if named else None)
        _queue(session, settings, alert, subject, body, text)
    session.flush()


# --------------------------------------------------------------------------- expiring lots

def _expiring_candidates(session: Session, horizon: date, *,
                         not_alerted_only: bool = False) -> list[tuple[Lot, Item, int]]:
    """Lots with stock expiring on or before `horizon` (expired ones included)."""
    query = (
        select(Lot, Item, func.sum(LotStock.on_hand))
        .join(LotStock, LotStock.lot_id == Lot.id)
        .join(Item, Item.id == Lot.item_id)
        .where(Lot.expires_on.is_not(None), Lot.expires_on <= horizon)
        .group_by(Lot.id, Item.id)
        .having(func.sum(LotStock.on_hand) > 0)
        .order_by(Lot.expires_on, Lot.id)
    )
    if not_alerted_only:
        query = query.where(Lot.expiry_alerted_at.is_(None))
    return [(lot, item, int(qty)) for lot, item, qty in session.execute(query).all()]


def check_expiring_lots(settings: Settings, now: datetime | None = None) -> int:
    """One `expiring_lot` alert per lot with stock expiring within the window (or expired).

    Returns how many alerts were raised. A conditional UPDATE claims each lot, so two
    runners at once (server and cron) never both alert for it.
    """
    now = now or clock.now()
    today = clock.clinic_date(now)
    horizon = today + timedelta(days=settings.expiry_warning_days)
    # A cheap read first: most runs find nothing and need no write lock at all.
    pending = _expiring_candidates(db.session(), horizon, not_alerted_only=True)
    db.session.rollback()
    if not pending:
        return 0
    raised = 0
    with write_transaction() as session:
        candidates = _expiring_candidates(session, horizon, not_alerted_only=True)
        availability = days_of_cover(session, [item.id for _, item, _ in candidates], now)
        for lot, item, lot_on_hand in candidates:
            claimed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(Lot).where(Lot.id == lot.id, Lot.expiry_alerted_at.is_(None))
                .values(expiry_alerted_at=now)
                .execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                continue
            cover = availability[item.id]
            alert = Alert(kind="expiring_lot", item_id=item.id, lot_id=lot.id,
                          on_hand=lot_on_hand, available=cover.available,
                          reorder_point=item.reorder_point)
            session.add(alert)
            _queue(session, settings, alert,
                   *expiring_lot_text(item, lot, lot_on_hand, today))
            raised += 1
    return raised


# --------------------------------------------------------------------------- daily digest

def digest_key(day: date) -> str:
    return f"digest:{day.isoformat()}"


def digest_text(session: Session, settings: Settings, now: datetime) -> tuple[str, str]:
    clinic = clinic_settings(session)
    today = clock.clinic_date(now, clinic.zone)
    rows = reorder_list(session, settings.reorder_cover_days, now)
    out = [r for r in rows if r.status == "out"]
    low = [r for r in rows if r.status != "out" and not r.ahead_of_bookings]
    # Above their reorder point, but the expected treatments take them there in the lead time.
    ahead = [r for r in rows if r.ahead_of_bookings]
    horizon = today + timedelta(days=settings.expiry_warning_days)
    expiring = _expiring_candidates(session, horizon)
    lines = [f"Stock digest for {today.isoformat()} - {clinic.clinic_name}", ""]

    def stock_lines(title: str, group: list[ReorderRow]) -> None:
        lines.append(f"{title} ({len(group)}):")
        for r in group:
            lines.append(f"  - {r.name} ({r.sku}): on hand {r.on_hand}, available "
                         f"{r.available}, reorder point {r.reorder_point}, suggested order "
                         f"{r.suggested_quantity}, days of cover {cover_text(r.days_of_cover)}")
        lines.append("")

    stock_lines("Out of stock", out)
    stock_lines("Low stock", low)
    if ahead:
        stock_lines("Low within the lead time (expected treatments)", ahead)
    lines.append(f"Expiring or expired lots ({len(expiring)}):")
    for lot, item, qty in expiring:
        assert lot.expires_on is not None
        days = (lot.expires_on - today).days
        when = f"expired {-days} days ago" if days < 0 else f"in {days} days"
        lines.append(f"  - {item.name} ({item.sku}) lot {lot.code}: expires "
                     f"{lot.expires_on.isoformat()} ({when}), {qty} on hand")
    if not rows and not expiring:
        lines += ["", "Nothing is low, out or expiring."]
    subject = (f"Stock digest {today.isoformat()}: {len(out)} out, {len(low)} low, "
               f"{len(expiring)} expiring lots")
    return subject, "\n".join(lines)


def queue_daily_digest(settings: Settings, now: datetime | None = None) -> bool:
    """Queue today's digest once it is DIGEST_HOUR in the clinic; True if this call did.

    The outbox's unique dedupe key makes "once per clinic day" hold even when several
    deliverers race: the loser's insert fails and it does nothing.
    """
    now = now or clock.now()
    local = now.astimezone(clock.clinic_zone())
    if local.hour < settings.digest_hour:
        return False
    key = digest_key(local.date())
    exists = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))
    db.session.rollback()
    if exists is not None:
        return False
    try:
        with write_transaction() as session:
            if session.scalar(select(OutboxMessage.id)
                              .where(OutboxMessage.dedupe_key == key)) is not None:
                return False
            subject, body = digest_text(session, settings, now)
            session.add(OutboxMessage(channel="email", topic="digest", dedupe_key=key,
                                      recipients=alert_recipients(session,
                                                                  settings.alert_email_to),
                                      subject=subject, body=body))
            if settings.alert_webhook_url:
                session.add(OutboxMessage(channel="webhook", topic="digest",
                                          dedupe_key=f"{key}:webhook", subject=subject,
                                          body=body))
    except IntegrityError:
        return False  # another deliverer queued it first
    return True


# --------------------------------------------------------------------------- reading, acknowledging

def list_alerts(session: Session, *, open_only: bool = False, limit: int = 200) -> list[Alert]:
    """Newest first; `open_only`: not yet acknowledged."""
    query = (select(Alert).options(joinedload(Alert.item), joinedload(Alert.lot))
             .order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit))
    if open_only:
        query = query.where(Alert.acknowledged_at.is_(None))
    return list(session.scalars(query))


def alerts_page(session: Session, *, open_only: bool, page: int,
                per_page: int) -> tuple[list[Alert], int]:
    """One page of alerts, newest first, and how many there are in all."""
    count = select(func.count(Alert.id))
    if open_only:
        count = count.where(Alert.acknowledged_at.is_(None))
    query = (select(Alert).options(joinedload(Alert.item), joinedload(Alert.lot))
             .order_by(Alert.created_at.desc(), Alert.id.desc())
             .offset((page - 1) * per_page).limit(per_page))
    if open_only:
        query = query.where(Alert.acknowledged_at.is_(None))
    return list(session.scalars(query)), int(session.scalar(count) or 0)


def acknowledge(alert_id: int, user_id: int | None) -> Alert:
    """Mark an alert as seen; acknowledging it again keeps the first acknowledgement."""
    with write_transaction() as session:
        alert = session.get(Alert, alert_id, with_for_update=True)
        if alert is None:
            raise NotFound(f"No alert {alert_id}.", {"alert_id": alert_id})
        if alert.acknowledged_at is None:
            alert.acknowledged_at = clock.now()
            alert.acknowledged_by_id = user_id
            audit.record(session, user_id, "alert.acknowledge", "alert", alert.id,
                         kind=alert.kind)
        return alert


def failing_messages(session: Session, limit: int = 100) -> list[OutboxMessage]:
    """Undelivered outbox rows that have failed at least once, most recent first."""
    return list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None),
                                    OutboxMessage.attempts > 0)
        .order_by(OutboxMessage.id.desc()).limit(limit)))


def undelivered_mail(session: Session, limit: int = 100) -> list[OutboxMessage]:
    """Email still in the outbox (all of it, when no mail server is configured)."""
    return list(session.scalars(
        select(OutboxMessage).where(and_(OutboxMessage.delivered_at.is_(None),
                                         OutboxMessage.channel == "email"))
        .order_by(OutboxMessage.id.desc()).limit(limit)))

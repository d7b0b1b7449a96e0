"""A provider's "Today's clients" (issue 11): who was sold to or treated today, and whose
series is due for its next session (next_eligible_on on or before today)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos.domain.series import next_eligible_on
from pos.domain.statuses import SaleStatus
from pos.models import Client, Package, PackagePurchase, Sale, Treatment

# A provider's list, not a report: past this many due series, the oldest come first.
MAX_DUE = 200


@dataclass
class TodayClient:
    client_id: int
    name: str
    sold_today: bool = False
    treated_today: bool = False
    # The earliest date a due series of theirs could have had its next session.
    due_since: date | None = None
    due_packages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TodaysClients:
    day: date
    seen: list[TodayClient]
    due: list[TodayClient]


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, end


def todays_clients(session: Session, day: date, zone: ZoneInfo) -> TodaysClients:
    start, end = _day_bounds(day, zone)
    names: dict[int, str] = {}
    seen: dict[int, TodayClient] = {}

    def entry(target: dict[int, TodayClient], client: Client) -> TodayClient:
        names[client.id] = client.full_name
        return target.setdefault(client.id, TodayClient(client.id, client.full_name))

    for client in session.scalars(select(Client).join(Sale, Sale.client_id == Client.id).where(
            Sale.status == SaleStatus.PAID, Sale.created_at >= start, Sale.created_at < end
    ).distinct()):
        entry(seen, client).sold_today = True
    for client in session.scalars(select(Client).join(
            Treatment, Treatment.client_id == Client.id).where(
            Treatment.voided_at.is_(None), Treatment.performed_at >= start,
            Treatment.performed_at < end).distinct()):
        entry(seen, client).treated_today = True

    last_session = (select(Treatment.purchase_id, func.max(Treatment.performed_at).label("at"))
                    .where(Treatment.voided_at.is_(None)).group_by(Treatment.purchase_id)
                    .subquery())
    due: dict[int, TodayClient] = {}
    rows = session.execute(
        select(Client, Package, last_session.c.at)
        .join(PackagePurchase, PackagePurchase.client_id == Client.id)
        .join(Package, Package.id == PackagePurchase.package_id)
        .join(last_session, last_session.c.purchase_id == PackagePurchase.id)
        .where(PackagePurchase.sessions_total - PackagePurchase.sessions_used
               - PackagePurchase.sessions_refunded > 0)
        .order_by(last_session.c.at)).all()
    for client, package, last_at in rows:
        eligible = next_eligible_on(last_at.astimezone(zone).date(), package.min_days_between)
        if eligible is None or eligible > day:
            continue
        found = entry(due, client)
        found.due_since = min(found.due_since or eligible, eligible)
        found.due_packages.append(package.name)
        if len(due) >= MAX_DUE:
            break
    return TodaysClients(
        day=day,
        seen=sorted(seen.values(), key=lambda c: (c.name.lower(), c.client_id)),
        due=sorted(due.values(), key=lambda c: (c.due_since or day, c.name.lower())))

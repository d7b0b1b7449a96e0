"""A client's history for their page and the API: packages with the sessions left and the
next eligible date, sales, and (clinical, for a provider) treatments."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos.domain.errors import NotFound
from pos.domain.limits import MAX_ID
from pos.domain.series import next_eligible_on
from pos.models import Client, Package, PackagePurchase, Sale, SaleLine, Treatment
from pos.services import clock, credit


def get_client(session: Session, client_id: int, *, lock: bool = False) -> Client:
    client = session.get(Client, client_id, with_for_update=lock or None) \
        if 0 < client_id <= MAX_ID else None
    if client is None:
        raise NotFound(f"No client with id {client_id}.", {"client_id": client_id})
    return client


@dataclass(frozen=True)
class PackageBalance:
    purchase_id: int
    code: str
    name: str
    sessions_total: int
    sessions_used: int
    sessions_refunded: int
    sessions_left: int
    next_eligible_on: date | None
    sale_id: int


@dataclass(frozen=True)
class ClientSummary:
    client: Client
    packages: list[PackageBalance]
    first_visit_bundle_given: bool
    credit_cents: int = 0


def client_summary(session: Session, client_id: int) -> ClientSummary:
    """The client with every package bought and what is left of it."""
    client = get_client(session, client_id)
    last_sessions = dict(session.execute(
        select(Treatment.purchase_id, func.max(Treatment.performed_at))
        .where(Treatment.client_id == client.id, Treatment.voided_at.is_(None))
        .group_by(Treatment.purchase_id)
    ).tuples().all())
    rows = session.execute(
        select(PackagePurchase, Package, Sale.id)
        .join(Package, Package.id == PackagePurchase.package_id)
        .join(SaleLine, SaleLine.id == PackagePurchase.sale_line_id)
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(PackagePurchase.client_id == client.id)
        .order_by(PackagePurchase.id)
    ).tuples().all()
    packages = []
    for purchase, package, sale_id in rows:
        last_at = last_sessions.get(purchase.id)
        last_on = clock.clinic_date(last_at) if last_at is not None else None
        packages.append(PackageBalance(
            purchase_id=purchase.id, code=package.code, name=package.name,
            sessions_total=purchase.sessions_total, sessions_used=purchase.sessions_used,
            sessions_refunded=purchase.sessions_refunded,
            sessions_left=purchase.sessions_left,
            next_eligible_on=next_eligible_on(last_on, package.min_days_between),
            sale_id=sale_id,
        ))
    return ClientSummary(client=client, packages=packages,
                         first_visit_bundle_given=client.first_visit_bundle_at is not None,
                         credit_cents=credit.balance(session, client.id))


def client_sales(session: Session, client_id: int, limit: int = 50) -> list[Sale]:
    """The client's sales, newest first (for the client page)."""
    return list(session.scalars(
        select(Sale).where(Sale.client_id == client_id).order_by(Sale.id.desc()).limit(limit)))


@dataclass(frozen=True)
class TreatmentRow:
    id: int
    performed_at: Any
    area: str
    session_number: int
    package_name: str
    voided: bool


def client_treatments(session: Session, client_id: int, limit: int = 100) -> list[TreatmentRow]:
    """The client's treatments, newest first (clinical: the caller checks provider and
    audits the read)."""
    rows = session.execute(
        select(Treatment, Package.name)
        .join(PackagePurchase, PackagePurchase.id == Treatment.purchase_id)
        .join(Package, Package.id == PackagePurchase.package_id)
        .where(Treatment.client_id == client_id)
        .order_by(Treatment.performed_at.desc(), Treatment.id.desc()).limit(limit)
    ).tuples().all()
    return [TreatmentRow(id=t.id, performed_at=t.performed_at, area=t.area,
                         session_number=t.session_number, package_name=name,
                         voided=t.voided_at is not None) for t, name in rows]

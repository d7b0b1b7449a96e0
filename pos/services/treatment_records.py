"""What a client's clinical record shows: each series and its sessions, recalls by lot, and
a treatment's screening answers (for providers only, each view audited). The read side of
pos/services/treatments.py, which re-exports these names.

Screening answers are health information: nothing here logs them or puts them in an error,
an audit detail or a message.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos.domain.errors import NotFound
from pos.domain.limits import MAX_ID
from pos.domain.treatments import Progress
from pos.domain.treatments import series_progress as progress_of
from pos.models import Client, Item, Lot, PackagePurchase, Treatment, TreatmentSupply, User
from pos.services import clock, need_to_know, staff
from pos.services.transaction import write_transaction
from pos.settings import Settings


def require_role(session: Session, user_id: int | None, role: str) -> User:
    return staff.user_holding(session, user_id, role, why=f"This needs the {role} role.")


@dataclass(frozen=True)
class SessionRow:
    treatment_id: int
    session_number: int
    performed_at: datetime
    recorded_at: datetime
    off_rhythm: bool
    first_visit_bundle: bool
    voided_at: datetime | None
    void_reason: str | None = None
    provider: str | None = None
    notes: str | None = None
    needle_depth_mm: float | None = None
    passes: int | None = None
    device: str | None = None

    @property
    def voidable_today(self) -> bool:
        return self.voided_at is None and clock.clinic_date(self.recorded_at) == clock.today()


@dataclass(frozen=True)
class PurchaseProgress:
    purchase_id: int
    package_code: str
    package_name: str
    area: str
    sessions_total: int
    sessions_used: int
    sessions_refunded: int
    sessions: tuple[SessionRow, ...]  # oldest first, voided ones included (marked)
    progress: Progress

    @property
    def sessions_left(self) -> int:
        return self.progress.sessions_left

    @property
    def next_eligible_on(self) -> date | None:
        return self.progress.next_eligible_on

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.progress.warnings


def _settings_of(t: Treatment) -> tuple[float | None, int | None, str | None]:
    got = t.settings or {}
    return got.get("needle_depth_mm"), got.get("passes"), got.get("device")


def series_progress(session: Session, client_id: int) -> list[PurchaseProgress]:
    """Every package the client bought, oldest first, with where each series stands today."""
    today = clock.today()
    purchases = session.scalars(
        select(PackagePurchase).where(PackagePurchase.client_id == client_id)
        .order_by(PackagePurchase.id)).all()
    treatments = session.scalars(
        select(Treatment).where(Treatment.client_id == client_id)
        .order_by(Treatment.performed_at, Treatment.id)).all()
    out = []
    for purchase in purchases:
        rows = tuple(
            SessionRow(t.id, t.session_number, t.performed_at, t.recorded_at, t.off_rhythm,
                       t.first_visit_bundle, t.voided_at, t.void_reason,
                       t.performed_by.name if t.performed_by is not None else None,
                       t.notes, *_settings_of(t))
            for t in treatments if t.purchase_id == purchase.id)
        package = purchase.package
        progress = progress_of(
            [clock.clinic_date(r.performed_at) for r in rows if r.voided_at is None],
            purchase.sessions_left, today, package.min_days_between, package.max_days_between)
        out.append(PurchaseProgress(
            purchase_id=purchase.id, package_code=package.code, package_name=package.name,
            area=package.area, sessions_total=purchase.sessions_total,
            sessions_used=purchase.sessions_used, sessions_refunded=purchase.sessions_refunded,
            sessions=rows, progress=progress))
    return out


@dataclass(frozen=True)
class RecallRow:
    treatment_id: int
    client_id: int
    client_name: str  # for the manager's page only; the API and the CSV leave it out
    performed_at: datetime
    sku: str
    lot: str
    quantity: int


def recall(session: Session, lot_code: str) -> list[RecallRow]:
    """Every (non-voided) treatment that used a lot with this code, supplies and bundles."""
    lots = session.scalars(select(Lot).where(Lot.code == lot_code)).all()
    if not lots:
        raise NotFound(f"No lot {lot_code!r}.", {"lot": lot_code})
    lot_ids = [lot.id for lot in lots]
    supplies = session.execute(
        select(Treatment, Client, Item.sku, Lot.code, TreatmentSupply.quantity)
        .join(TreatmentSupply, TreatmentSupply.treatment_id == Treatment.id)
        .join(Lot, Lot.id == TreatmentSupply.lot_id)
        .join(Item, Item.id == Lot.item_id)
        .join(Client, Client.id == Treatment.client_id)
        .where(TreatmentSupply.lot_id.in_(lot_ids), Treatment.voided_at.is_(None))).all()
    bundles = session.execute(
        select(Treatment, Client, Item.sku, Lot.code)
        .join(Lot, Lot.id == Treatment.bundle_lot_id)
        .join(Item, Item.id == Lot.item_id)
        .join(Client, Client.id == Treatment.client_id)
        .where(Treatment.bundle_lot_id.in_(lot_ids), Treatment.voided_at.is_(None))).all()
    rows = [RecallRow(t.id, c.id, c.full_name, t.performed_at, sku, code, qty)
            for t, c, sku, code, qty in supplies]
    rows += [RecallRow(t.id, c.id, c.full_name, t.performed_at, sku, code, 1)
             for t, c, sku, code in bundles]
    rows.sort(key=lambda r: (r.performed_at, r.treatment_id, r.sku))
    return rows


@dataclass(frozen=True)
class ScreeningView:
    treatment_id: int
    client_id: int
    performed_at: datetime
    answers: dict[str, Any]
    acknowledged_cautions: tuple[str, ...]
    provider: str | None = None
    notes: str | None = None
    settings: dict[str, Any] | None = None


def view_screening(treatment_id: int, user: User, settings: Settings) -> ScreeningView:
    """The screening answers of a treatment, for providers only (need-to-know); each view
    is written to the audit log (ids only) in the same transaction that reads them."""
    with write_transaction() as session:
        require_role(session, user.id, "provider")
        treatment = session.get(Treatment, treatment_id) if 0 < treatment_id <= MAX_ID \
            else None
        if treatment is None:
            raise NotFound(f"No treatment {treatment_id}.", {"treatment_id": treatment_id})
        need_to_know.note_client_read(session, user_id=user.id, client_id=treatment.client_id,
                                      settings=settings, clinical="screening",
                                      record_id=treatment.id)
        return ScreeningView(treatment.id, treatment.client_id, treatment.performed_at,
                             dict(treatment.screening), tuple(treatment.acknowledged_cautions),
                             treatment.performed_by.name if treatment.performed_by else None,
                             treatment.notes,
                             dict(treatment.settings) if treatment.settings else None)

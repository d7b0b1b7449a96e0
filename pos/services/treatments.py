"""Performing a treatment: screening, redeeming a session, consuming supplies by lot, the
first-visit bundle; voiding one with a reason. What the record shows (series progress,
recalls by lot, the screening view) is in pos/services/treatment_records.py.

Screening answers are health information. They are stored on the treatment and shown only
through `view_screening` (which audits every view); nothing here logs them or puts them in
an error, an audit detail or a message.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos.domain.errors import InsufficientStock, NotFound, ValidationFailed
from pos.domain.limits import MAX_ID
from pos.domain.screening import parse_answers, screen
from pos.domain.series import check_sessions_left, check_spacing
from pos.domain.treatments import (
    AlreadyVoided,
    PurchaseMismatch,
    TreatmentSettings,
    WrongArea,
    check_settings,
    check_void_window,
)
from pos.models import (
    Client,
    Item,
    Package,
    PackagePurchase,
    StockMovement,
    Treatment,
    TreatmentSupply,
    User,
)
from pos.models.catalog import AREAS
from pos.services import (
    aftercare,
    audit,
    clock,
    consent,
    ledger,
    questionnaire,
)
from pos.services.transaction import write_transaction
from pos.services.treatment_records import (
    PurchaseProgress,
    RecallRow,
    ScreeningView,
    SessionRow,
    recall,
    require_role,
    series_progress,
    view_screening,
)

# The read side lives in treatment_records; these names stay importable from here.
__all__ = ["PurchaseProgress", "RecallRow", "ScreeningView", "SessionRow",
           "perform_treatment", "recall", "series_progress", "view_screening",
           "void_treatment"]

# A clock a few minutes fast on a tablet must not refuse a treatment as "in the future".
FUTURE_TOLERANCE = timedelta(minutes=5)
# Recording a session done earlier (paper notes, an outage) is allowed within a year.
BACKDATE_LIMIT = timedelta(days=366)


# Ids beyond a 32-bit integer cannot exist; asking PostgreSQL for one is an error, not a miss.


@dataclass(frozen=True)
class Consumed:
    sku: str
    lot: str
    quantity: int


@dataclass(frozen=True)
class TreatmentResult:
    id: int
    purchase_id: int
    session_number: int
    sessions_left: int
    consumed: tuple[Consumed, ...]
    first_visit_bundle: bool
    off_rhythm: bool
    provider: str | None = None
    next_eligible_on: date | None = None
    aftercare_emailed: bool = False


_Row = TypeVar("_Row", PackagePurchase, Client)


def _lock_row(session: Session, model: type[_Row], row_id: int, what: str, key: str) -> _Row:
    """The row, locked for this transaction, or 404 naming it (ids out of range too)."""
    row = session.scalar(
        select(model).where(model.id == row_id)
        .with_for_update().execution_options(populate_existing=True)) \
        if 0 < row_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"No {what} {row_id}.", {key: row_id})
    return row


def _lock_purchase(session: Session, purchase_id: int) -> PackagePurchase:
    return _lock_row(session, PackagePurchase, purchase_id, "package purchase", "purchase_id")


def _lock_client(session: Session, client_id: int) -> Client:
    return _lock_row(session, Client, client_id, "client", "client_id")


def _last_session_on(session: Session, purchase_id: int) -> date | None:
    last = session.scalar(
        select(Treatment.performed_at)
        .where(Treatment.purchase_id == purchase_id, Treatment.voided_at.is_(None))
        .order_by(Treatment.performed_at.desc()).limit(1))
    return None if last is None else clock.clinic_date(last)


def _check_performed_at(performed_at: datetime | None, now: datetime) -> datetime:
    if performed_at is None:
        return now
    if performed_at.tzinfo is None or performed_at.utcoffset() is None:
        raise ValidationFailed("performed_at must be a timestamp with a time-zone offset.",
                               {"fields": {"performed_at": "needs an offset"}})
    if performed_at > now + FUTURE_TOLERANCE:
        raise ValidationFailed("A treatment cannot be recorded for a time in the future.",
                               {"fields": {"performed_at": "is in the future"}})
    if performed_at < now - BACKDATE_LIMIT:
        raise ValidationFailed("A treatment can be recorded up to a year after it was done.",
                               {"fields": {"performed_at": "is more than a year ago"}})
    return performed_at


def perform_treatment(
    *,
    client_id: int,
    purchase_id: int,
    area: str,
    screening_raw: object,
    acknowledged_cautions: Collection[str],
    performed_at: datetime | None,
    user_id: int | None,
    bundle_sku: str,
    notes: str | None = None,
    settings: TreatmentSettings | None = None,
    location_id: int | None = None,
) -> TreatmentResult:
    """Record one session of a purchased package, in one transaction, or change nothing.

    `bundle_sku`: FIRST_VISIT_BUNDLE_SKU, from the caller's settings. `notes` and
    `settings` (the pen's needle depth, passes, device) are clinical: stored on the
    treatment, never logged or audited. `location_id`: where the supplies are used
    (None: the clinic's first location).
    """
    checked_settings = check_settings(settings) if settings is not None else None
    if area not in AREAS:
        raise ValidationFailed("Area must be face or scalp.", {"fields": {"area": "unknown"}})
    now = clock.now()
    performed_at = _check_performed_at(performed_at, now)
    performed_on = clock.clinic_date(performed_at)
    # Supplies leave the shelf now: a lot must be usable both today and on the day recorded.
    stock_day = max(clock.today(), performed_on)

    with write_transaction() as session:
        # Lock order everywhere in this module: purchase, client, then item stock by item id.
        purchase = _lock_purchase(session, purchase_id)
        client = _lock_client(session, client_id)
        # A signed consent to the form in force, whatever the treatment's performed_at.
        consent.check_consent(session, client.id)
        # The questionnaire in force answers every question; earlier visits' dates count.
        questions = questionnaire.in_force(session).questionnaire
        answers = parse_answers(screening_raw, questions)
        history = session.scalars(
            select(Treatment.screening).where(
                Treatment.client_id == client.id, Treatment.voided_at.is_(None),
                Treatment.performed_at <= performed_at)).all()
        verdict = screen(answers, acknowledged_cautions, performed_on, questions, history)
        if purchase.client_id != client.id:
            raise PurchaseMismatch("This package purchase belongs to another client.",
                                   {"purchase_id": purchase.id, "client_id": client.id})
        package = session.get(Package, purchase.package_id)
        assert package is not None  # a foreign key
        if package.area != area:
            raise WrongArea(
                f"This package is for the {package.area}; it cannot be redeemed for the "
                f"{area}.", {"package_area": package.area, "area": area})
        sessions_left = check_sessions_left(
            purchase.sessions_total - purchase.sessions_refunded, purchase.sessions_used)
        spacing = check_spacing(_last_session_on(session, purchase.id), performed_on,
                                package.min_days_between, package.max_days_between)

        supplies = [(line.item, line.quantity) for line in package.supplies]
        give_bundle = client.first_visit_bundle_at is None
        bundle_item: Item | None = None
        if give_bundle:
            sku = bundle_sku
            bundle_item = session.scalar(select(Item).where(Item.sku == sku))
            if bundle_item is None:
                raise InsufficientStock(
                    f"The first-visit bundle ({sku}) is not in the catalog.",
                    {"sku": sku, "requested": 1, "available": 0})
        location = ledger.location_or_default(session, location_id)
        item_ids = [item.id for item, _ in supplies]
        if bundle_item is not None:
            item_ids.append(bundle_item.id)
        stocks = ledger.lock_items(session, item_ids, location.id)

        treatment = Treatment(
            client_id=client.id, purchase_id=purchase.id,
            session_number=purchase.sessions_used + 1, area=area, performed_at=performed_at,
            recorded_at=now, performed_by_id=user_id, screening=answers.to_json(questions),
            questionnaire_version=questions.version,
            acknowledged_cautions=sorted(set(verdict.cautions + verdict.avoided_areas)),
            first_visit_bundle=give_bundle, off_rhythm=spacing.off_rhythm,
            notes=notes or None,
            settings=checked_settings.to_json() if checked_settings is not None else None,
        )
        session.add(treatment)
        session.flush()
        reference = f"treatment:{treatment.id}"

        consumed: list[Consumed] = []
        for item, quantity in supplies:
            taken = ledger.consume_fefo(session, stocks[item.id], quantity, stock_day,
                                        "treatment", sku=item.sku, reference=reference,
                                        user_id=user_id)
            for lot, qty in taken:
                session.add(TreatmentSupply(treatment_id=treatment.id, item_id=item.id,
                                            lot_id=lot.id, quantity=qty,
                                            unit_cost_cents=lot.unit_cost_cents))
                consumed.append(Consumed(item.sku, lot.code, qty))
        if bundle_item is not None:
            [(bundle_lot, _)] = ledger.consume_fefo(
                session, stocks[bundle_item.id], 1, stock_day, "first_visit_bundle",
                sku=bundle_item.sku, reference=reference, user_id=user_id)
            treatment.bundle_lot_id = bundle_lot.id
            client.first_visit_bundle_at = performed_at

        purchase.sessions_used += 1
        left = sessions_left - 1
        next_on = performed_on + timedelta(days=package.min_days_between) if left else None
        aftercare_sent = aftercare.queue_email(session, client, next_on, left)
        session.flush()
        audit.record(session, user_id, "treatment.create", "treatment", treatment.id,
                     client_id=client.id, purchase_id=purchase.id,
                     session_number=treatment.session_number)
        provider = session.get(User, user_id) if user_id is not None else None
        return TreatmentResult(
            id=treatment.id, purchase_id=purchase.id, session_number=treatment.session_number,
            sessions_left=sessions_left - 1, consumed=tuple(consumed),
            first_visit_bundle=give_bundle, off_rhythm=spacing.off_rhythm,
            provider=provider.name if provider is not None else None,
            next_eligible_on=next_on, aftercare_emailed=aftercare_sent,
        )


@dataclass(frozen=True)
class VoidResult:
    treatment_id: int
    purchase_id: int
    sessions_left: int
    reason: str
    written_off: tuple[Consumed, ...]


WASTE = "waste"
VOID_REASON_MAX = 500


def void_treatment(treatment_id: int, user_id: int | None, reason: str) -> VoidResult:
    """Void a treatment recorded by mistake, with a reason: the session goes back to the
    package; every supply it consumed was opened for the client (a single-use cartridge,
    lidocaine, serum, a mask) and is written off as waste, never put back on the shelf.

    Per lot, the consumption is reversed ("treatment_void") and the same quantity written
    off ("waste"), both naming the treatment, in the same transaction: on-hand never rises,
    and the ledger says what became of the units. The first-visit bundle was handed to the
    client and stays theirs (not restocked, not given twice). Nothing is deleted.
    Same clinic day by a provider; later only by a provider who is also a manager."""
    reason = reason.strip()
    if not reason or len(reason) > VOID_REASON_MAX:
        raise ValidationFailed("Say why the treatment is voided.",
                               {"fields": {"reason": "is required (at most 500 characters)"}})
    with write_transaction() as session:
        user = require_role(session, user_id, "provider")
        found = session.scalar(select(Treatment).where(Treatment.id == treatment_id)) \
            if 0 < treatment_id <= MAX_ID else None
        if found is None:
            raise NotFound(f"No treatment {treatment_id}.", {"treatment_id": treatment_id})
        # Same order as perform_treatment: purchase, client, the treatment, item stock.
        purchase = _lock_purchase(session, found.purchase_id)
        client = _lock_client(session, found.client_id)
        treatment = session.scalar(
            select(Treatment).where(Treatment.id == treatment_id)
            .with_for_update().execution_options(populate_existing=True))
        assert treatment is not None
        if treatment.voided_at is not None:
            raise AlreadyVoided("This treatment was already voided.",
                                {"treatment_id": treatment.id})
        check_void_window(clock.clinic_date(treatment.recorded_at), clock.today(),
                          provider_manager=user.has_role("manager"))

        supplies = list(session.scalars(
            select(TreatmentSupply).where(TreatmentSupply.treatment_id == treatment.id)
            .order_by(TreatmentSupply.id)))
        reference = f"treatment:{treatment.id}"
        # The supplies go back where they were taken from.
        taken_at = session.scalar(select(StockMovement.location_id).where(
            StockMovement.reference == reference).limit(1))
        location = ledger.location_or_default(session, taken_at)
        stocks = ledger.lock_items(session, [s.item_id for s in supplies], location.id)
        written_off = []
        for supply in supplies:
            stock = stocks[supply.item_id]
            ledger.post_movement(session, stock, supply.lot, supply.quantity,
                                 "treatment_void", reference=reference, user_id=user_id,
                                 note="opened for the client: written off below")
            ledger.post_movement(session, stock, supply.lot, -supply.quantity, WASTE,
                                 reference=reference, user_id=user_id,
                                 note=f"opened for voided treatment {treatment.id}")
            written_off.append(Consumed(supply.lot.item.sku, supply.lot.code,
                                        supply.quantity))
        purchase.sessions_used -= 1
        treatment.voided_at = clock.now()
        treatment.voided_by_id = user_id
        treatment.void_reason = reason
        session.flush()
        # The reason may describe the client's care: it stays on the treatment, not here.
        audit.record(session, user_id, "treatment.void", "treatment", treatment.id,
                     client_id=client.id, purchase_id=purchase.id)
        return VoidResult(treatment.id, purchase.id, purchase.sessions_left, reason,
                          tuple(written_off))

"""`pos seed-demo` writes a year of history through the services: the reports compare
months, series keep their rhythm, stock stays whole, the alerts and recall pages have
something to show, and the same day always gives the same year.

The year takes seconds to write, so each backend seeds one database for the whole module
(read-only tests) and the determinism test seeds two more.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from pos.domain.statuses import PaymentMethod, PaymentStatus, RefundStatus, SaleStatus
from pos.extensions import db
from pos.models import (
    Alert,
    Client,
    Drawer,
    Item,
    ItemStock,
    Lot,
    LotStock,
    OutboxMessage,
    Package,
    PackagePurchase,
    Payment,
    Refund,
    Sale,
    SaleLine,
    StockMovement,
    Treatment,
    TreatmentSupply,
    User,
)
from pos.services import clock, staff, stock
from pos.services.clients import client_summary
from pos.services.reports import monthly_report
from pos.services.sales.receipt import load_receipt, receipt_text
from tests.conftest import create_database, drop_database, make_app
from tests.integration.test_cli import DEMO_SKUS, ROLES, demo_logins, signs_in

pytestmark = pytest.mark.xdist_group("seed-history")


def _seed(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["pos", "seed-demo"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    return result.output


@dataclass(frozen=True)
class Seeded:
    app: Flask
    output: str  # what `pos seed-demo` printed


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql",
                                                               marks=pytest.mark.postgres)])
def seeded(request, tmp_path_factory) -> Iterator[Seeded]:  # type: ignore[no-untyped-def]
    """One demo clinic per backend, seeded once for the module's read-only tests."""
    if request.param == "sqlite":
        url, name = f"sqlite:///{tmp_path_factory.mktemp('seed') / 'pos.sqlite3'}", None
    else:
        server = request.getfixturevalue("pg_server_url")
        name = f"pos_seed_{uuid.uuid4().hex[:10]}"
        url = create_database(server, name)
    app = make_app(url)
    with app.app_context():
        db.create_all()
        yield Seeded(app, _seed(app))
        db.session.remove()
        db.engine.dispose()
    if name is not None:
        drop_database(request.getfixturevalue("pg_server_url"), name)


def _api(seeded: Seeded, role_email: str, path: str) -> Any:
    token = staff.create_token(role_email)
    response = seeded.app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    return body["items"] if isinstance(body, dict) and "items" in body else body


def _months_before(today: date, count: int) -> list[tuple[int, int]]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        months.append((year, month))
    return months


def test_seed_demo_creates_the_clinic_of_the_domain_brief(seeded):
    assert set(db.session.scalars(select(Item.sku))) == DEMO_SKUS
    kinds = {sku: kind for sku, kind in db.session.execute(select(Item.sku, Item.kind))}
    assert kinds["BUNDLE-FV"] == "bundle"
    assert kinds["SERUM-1OZ"] == kinds["MIST-RET"] == "retail"
    assert kinds["CART-36"] == kinds["LIDO-23"] == kinds["GF-MASK"] == "supply"

    packages = {p.code: p for p in db.session.scalars(select(Package))}
    assert set(packages) == {"FACE-1", "FACE-3", "SCALP-4"}
    assert (packages["FACE-3"].sessions, packages["FACE-3"].min_days_between,
            packages["FACE-3"].max_days_between) == (3, 28, 42)
    assert packages["FACE-1"].sessions == 1 and packages["FACE-1"].area == "face"
    assert packages["SCALP-4"].area == "scalp" and packages["SCALP-4"].sessions == 4
    for package in packages.values():
        supplies = {s.item.sku: s.quantity for s in package.supplies}
        assert supplies["CART-36"] == 1 and supplies["GF-MASK"] == 1
        assert {"LIDO-23", "HA-CLIN", "MIST-CLIN"} <= set(supplies)

    today = clock.today()
    lots = {}
    for item in db.session.scalars(select(Item)):
        lots[item.sku] = stock.item_lots(db.session, item)
    with_expiry = [r for rows in lots.values() for r in rows if r.lot.expires_on]
    assert len({r.lot.expires_on for r in with_expiry}) >= 5
    assert any(len({r.lot.expires_on for r in rows}) >= 2 for rows in lots.values())
    assert not any(r.expired for r in with_expiry)
    warning = seeded.app.config["EXPIRY_WARNING_DAYS"]
    assert any((r.lot.expires_on - today).days <= warning for r in with_expiry), \
        "one lot near expiry"

    rows = {row.item.sku: row for row in stock.list_items(db.session)}
    assert [sku for sku, row in rows.items() if row.status != "ok"] == ["GF-MASK"]
    assert 0 < rows["GF-MASK"].available < rows["GF-MASK"].item.reorder_point
    assert rows["GF-MASK"].status == "low"
    assert all(row.on_hand > 0 for row in rows.values())


def test_seed_demo_gives_one_client_a_paid_series_ready_for_a_first_treatment(seeded):
    ava = db.session.scalar(select(Client).where(Client.email == "ava.martinez@example.com"))
    summary = client_summary(db.session, ava.id)
    assert [(p.code, p.sessions_left) for p in summary.packages] == [("FACE-3", 3)]
    assert summary.first_visit_bundle_given is False


def test_the_demo_receipts_carry_the_clinics_address_phone_and_tax_id(seeded):
    sale = db.session.scalar(select(Sale).where(Sale.status == "paid").order_by(Sale.id.desc()))
    text = receipt_text(load_receipt(db.session, sale), "USD")
    assert "221 Harbour Street, Suite 4" in text and "(207) 555-0142" in text
    assert "EIN 00-0000000 (demo)" in text


def test_seed_demo_prints_one_working_login_per_role(seeded):
    logins = demo_logins(seeded.output)
    assert sorted(logins) == sorted([*ROLES, "provider+manager"])
    assert len({password for _, password in logins.values()}) == 5
    for role, (email, password) in logins.items():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user.roles == set(role.split("+"))
        assert signs_in(email, password), role


def test_last_month_and_the_month_before_have_sales_and_the_report_compares_them(seeded):
    (year, month), (before_year, before_month) = _months_before(clock.today(), 2)
    last = _api(seeded, "manager@clinic.example",
                f"/api/v1/reports/monthly?month={year}-{month:02d}")
    before = _api(seeded, "manager@clinic.example",
                  f"/api/v1/reports/monthly?month={before_year}-{before_month:02d}")
    for report in (last, before):
        assert report["totals"]["gross_cents"] > 0 and report["totals"]["sales_count"] > 0
        assert report["sessions_performed"] > 0
        assert report["supplies_consumed"], "treatments consumed supplies"
    assert last["previous_month"]["month"] == f"{before_year}-{before_month:02d}"
    assert last["previous_month"]["gross_cents"] == before["totals"]["gross_cents"] > 0
    assert last["previous_month"]["sales_count"] == before["totals"]["sales_count"] > 0
    assert last["package_liability_cents"] > 0, "series bought and not yet used up"


def test_each_of_the_twelve_months_before_this_one_has_sales_with_some_shape(seeded):
    figures = [monthly_report(db.session, year, month).totals
               for year, month in _months_before(clock.today(), 12)]
    db.session.rollback()
    assert all(f.sales_count > 0 and f.gross_cents > 0 for f in figures)
    assert len({f.gross_cents for f in figures}) == 12, "the months differ"
    # Busier months and quieter ones: the best month takes well over the worst.
    gross = sorted(f.gross_cents for f in figures)
    assert gross[-1] > 1.5 * gross[0]


def test_sales_of_every_kind_are_paid_in_cash_and_by_card_on_the_demo_gateway(seeded):
    paid = db.session.execute(
        select(Sale.payment_method, func.count()).where(Sale.status == SaleStatus.PAID)
        .group_by(Sale.payment_method)).all()
    assert {method for method, count in paid if count >= 10} == {"cash", "card"}
    assert db.session.scalar(select(func.count()).select_from(Sale)
                             .where(Sale.status != SaleStatus.PAID)) == 0
    card = db.session.execute(
        select(Payment.status, Sale.gateway).join(Sale)
        .where(Payment.method == PaymentMethod.CARD)).all()
    assert card and all(status == PaymentStatus.SUCCEEDED and gateway == "demo"
                        for status, gateway in card)
    sold_packages = set(db.session.scalars(
        select(Package.code).join(SaleLine, SaleLine.package_id == Package.id)))
    assert sold_packages == {"FACE-1", "FACE-3", "SCALP-4"}
    sold_items = set(db.session.scalars(select(Item.kind).join(SaleLine)))
    assert sold_items == {"retail"}
    assert db.session.scalar(select(func.count()).select_from(Client)) >= 38
    assert db.session.scalar(select(func.count()).select_from(Client)
                             .where(Client.email.not_like("%@example.com"))) == 0


def test_every_series_keeps_its_rhythm_between_sessions(seeded):
    zone = clock.clinic_zone()
    sessions: dict[int, list[date]] = defaultdict(list)
    spacing = {}
    rows = db.session.execute(
        select(Treatment.purchase_id, Treatment.performed_at, Package.min_days_between,
               Package.max_days_between)
        .join(PackagePurchase, PackagePurchase.id == Treatment.purchase_id)
        .join(Package, Package.id == PackagePurchase.package_id)
        .where(Treatment.voided_at.is_(None)).order_by(Treatment.performed_at))
    for purchase_id, performed_at, min_days, max_days in rows:
        sessions[purchase_id].append(clock.clinic_date(performed_at, zone))
        spacing[purchase_id] = (min_days, max_days)
    pairs = 0
    for purchase_id, days in sessions.items():
        min_days, max_days = spacing[purchase_id]
        for earlier, later in zip(days, days[1:], strict=False):
            assert min_days <= (later - earlier).days <= max_days, (purchase_id, days)
            pairs += 1
    assert pairs >= 20, "enough series sessions to say something"
    assert db.session.scalar(select(func.count()).select_from(Treatment)
                             .where(Treatment.off_rhythm.is_(True))) == 0


def test_refunds_were_made_and_stock_never_went_below_zero(seeded):
    refunds = db.session.scalars(select(Refund)).all()
    assert len(refunds) >= 3
    assert all(r.status == RefundStatus.SUCCEEDED and r.amount_cents > 0 for r in refunds)

    ledger = dict(db.session.execute(
        select(StockMovement.item_id, func.sum(StockMovement.qty_delta))
        .group_by(StockMovement.item_id)).all())
    for item_stock in db.session.scalars(select(ItemStock)):
        assert item_stock.on_hand == ledger[item_stock.item_id] >= 0
    assert all(row.on_hand >= 0 for row in db.session.scalars(select(LotStock)))
    # Never negative at any moment either: every lot's running sum, in ledger order.
    running: dict[int, int] = defaultdict(int)
    for lot_id, qty_delta in db.session.execute(
            select(StockMovement.lot_id, StockMovement.qty_delta).order_by(StockMovement.id)):
        running[lot_id] += qty_delta
        assert running[lot_id] >= 0, lot_id
    received = db.session.scalar(select(func.count()).select_from(StockMovement)
                                 .where(StockMovement.reason == "receipt"))
    assert received >= 20, "stock arrived in lots over the year"


def test_the_alerts_page_has_an_expiring_lot_and_a_low_stock_alert(seeded):
    listed = _api(seeded, "manager@clinic.example", "/api/v1/alerts")
    kinds = {(a["kind"], a["sku"]) for a in listed}
    assert ("low_stock", "GF-MASK") in kinds
    assert ("expiring_lot", "LIDO-23") in kinds
    assert any(a["kind"] == "expiring_lot" and a["lot"] == "L-1187" for a in listed)
    items = {i["sku"]: i for i in _api(seeded, "manager@clinic.example", "/api/v1/items")}
    assert items["GF-MASK"]["status"] == "low"
    assert 0 < items["GF-MASK"]["available"] < items["GF-MASK"]["reorder_point"]
    # Alert emails wait in the outbox for the worker: seeding delivered nothing.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.topic == "alert")) >= 2
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.delivered_at.is_not(None))) == 0
    low = db.session.scalar(select(Alert).where(Alert.kind == "low_stock"))
    assert low.created_at < clock.now(), "raised by the year's own treatments"


def test_the_recall_list_of_a_lot_used_in_the_year_names_its_treatments(seeded):
    lot_code, used_in = db.session.execute(
        select(Lot.code, func.count(func.distinct(TreatmentSupply.treatment_id)))
        .join(TreatmentSupply, TreatmentSupply.lot_id == Lot.id)
        .join(Item, Item.id == Lot.item_id).where(Item.sku == "LIDO-23")
        .group_by(Lot.code).order_by(Lot.code)).first()
    recall = _api(seeded, "manager@clinic.example", f"/api/v1/lots/{lot_code}/treatments")
    assert len({row["treatment_id"] for row in recall}) == used_in >= 1
    assert {row["lot"] for row in recall} == {lot_code}


def _figures() -> dict[str, Any]:
    months = _months_before(clock.today(), 12)
    reports = {f"{y}-{m:02d}": monthly_report(db.session, y, m) for y, m in months}
    db.session.rollback()
    return {
        "months": {key: (r.totals.gross_cents, r.totals.sales_count, r.totals.refund_cents,
                         r.packages.sessions_performed, r.packages.liability.closing_cents)
                   for key, r in reports.items()},
        "on_hand": {sku: on_hand for sku, on_hand in db.session.execute(
            select(Item.sku, ItemStock.on_hand).join(ItemStock))},
        "lots": sorted(db.session.execute(
            select(Lot.code, LotStock.on_hand).join(LotStock)).tuples().all()),
        "counts": [db.session.scalar(select(func.count()).select_from(model))
                   for model in (Client, Sale, Treatment, Refund, Alert)],
    }


def test_two_runs_on_fresh_databases_give_the_same_year(tmp_path):
    figures = []
    for run in ("first", "second"):
        app = make_app(f"sqlite:///{tmp_path / run}.sqlite3")
        with app.app_context():
            db.create_all()
            _seed(app)
            figures.append(_figures())
            db.session.remove()
            db.engine.dispose()
    assert figures[0] == figures[1]
    assert sum(month[0] for month in figures[0]["months"].values()) > 0


def test_each_past_day_of_cash_was_counted_and_closed_in_its_own_drawer(seeded):
    """The desk counts its drawer at the end of each day: the year's cash lands in one
    closed drawer per day with cash, each counted as expected, never in one drawer a year
    long."""
    drawers = db.session.scalars(select(Drawer).order_by(Drawer.id)).all()
    past = [d for d in drawers if d.opened_at.date() < clock.today() - timedelta(days=1)]
    assert len(past) > 30
    assert [d.id for d in past if d.status != "closed"] == []
    assert [(d.id, d.over_short_cents) for d in past
            if d.over_short_cents != 0 and not d.note] == []
    assert len({d.opened_at.date() for d in past}) == len(past), "one drawer a day"
    assert sum(1 for d in drawers if d.status == "open") <= 1

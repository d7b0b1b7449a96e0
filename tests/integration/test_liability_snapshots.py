"""The package liability opens from a stored snapshot, and no write leaves a wrong one.

A report stores the liability at its month's boundaries once they are past; the next
report opens from it. Triggers delete, in the writing transaction, every snapshot later
than a changed row's date (tests/integration/test_reports_property.py changes the past in
every way the report reads and compares with a naive loop; these tests show each part).
"""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import insert, inspect, select, text, update

from pos.domain.reporting import Month
from pos.extensions import db
from pos.models import PackageLiabilitySnapshot, Sale, Treatment
from pos.services import clock
from pos.services.reports import monthly_report
from tests.fixtures_clinical import (
    make_client,
    make_clinic_stock,
    make_series_purchase,
    treatment_body,
)
from tests.integration.test_migrations import (  # noqa: F401 - fixtures
    empty_database_url,
    empty_pg_url,
    empty_sqlite_url,
    migrated_app,
)
from tests.report_history import NEW_YORK, History, clinic_instant

AFTER_ALL = datetime(2026, 11, 29, 12, tzinfo=UTC)  # "now" for the reports below


def boundary(year_or_month: int | Month, month: int = 1) -> datetime:
    """The UTC instant a clinic month starts."""
    if isinstance(year_or_month, Month):
        return clinic_instant(year_or_month.first_day, time(0, 0))
    return clinic_instant(date(year_or_month, month, 1), time(0, 0))


def stored() -> dict[datetime, int]:
    db.session.expire_all()
    return {s.at: s.liability_cents for s in db.session.scalars(
        select(PackageLiabilitySnapshot).order_by(PackageLiabilitySnapshot.at))}


def face3_bought_in_june() -> tuple[History, int]:
    """FACE3 (3 sessions, 90,001 cents: 30,000 + 30,000 + 30,001) paid on 10 June 2026."""
    h = History(db.session)
    sale = h.sale([("FACE3", 1)], paid_at=clinic_instant(date(2026, 6, 10), time(12, 0)))
    purchase = h.purchases(sale.lines[0])[0]
    db.session.commit()
    return h, purchase.id


@pytest.mark.usefixtures("migrated_app")
def test_the_migration_creates_the_triggers_that_keep_snapshots_true():
    engine = db.engine
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            names = set(connection.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        else:
            names = set(connection.scalars(text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
    watched = {"sales", "sale_lines", "package_purchases", "treatments", "refunds",
               "refund_lines"}
    for table in watched:
        assert any(n.startswith(f"pos_liability_{table}_") for n in names), table
    assert "package_liability_snapshots" in inspect(engine).get_table_names()


def test_a_past_month_stores_its_opening_and_closing_and_an_open_month_neither(app):
    face3_bought_in_june()
    july = monthly_report(db.session, 2026, 7, NEW_YORK, now=AFTER_ALL)
    assert july.packages.liability.opening_cents == 90_001
    assert stored() == {boundary(2026, 7): 90_001, boundary(2026, 8): 90_001}
    # November is not over on 29 November: its closing is not a fact yet.
    monthly_report(db.session, 2026, 11, NEW_YORK, now=AFTER_ALL)
    assert boundary(2026, 12) not in stored()
    assert stored()[boundary(2026, 11)] == 90_001


def test_the_next_report_opens_from_the_stored_figure_not_from_the_history(app):
    face3_bought_in_june()
    monthly_report(db.session, 2026, 7, NEW_YORK, now=AFTER_ALL)
    # Doctor the stored opening of August (an UPDATE of the snapshot itself fires no
    # trigger): the August report shows it, so it did not re-read June.
    db.session.execute(update(PackageLiabilitySnapshot)
                       .where(PackageLiabilitySnapshot.at == boundary(2026, 8))
                       .values(liability_cents=12_345))
    db.session.commit()
    august = monthly_report(db.session, 2026, 8, NEW_YORK, now=AFTER_ALL)
    assert august.packages.liability.opening_cents == 12_345
    # A later month rolls forward from the latest snapshot before it.
    october = monthly_report(db.session, 2026, 10, NEW_YORK, now=AFTER_ALL)
    assert october.packages.liability.opening_cents == 12_345


def test_a_treatment_recorded_now_for_a_past_month_deletes_the_later_snapshots_with_it(
        app, api):
    make_clinic_stock()
    client = make_client()
    purchase = make_series_purchase(client, "FACE-3")
    this = Month(clock.today().year, clock.today().month)
    # The sale was paid five months ago (moved back by hand: a history, not today's sale).
    db.session.execute(update(Sale).values(
        paid_at=clinic_instant(this.shift(-5).first_day, time(12, 0))))
    db.session.commit()
    value = purchase.value_cents
    for back in (3, 2, 1):
        m = this.shift(-back)
        monthly_report(db.session, m.year, m.month, NEW_YORK)
    edges = [boundary(this.shift(-back)) for back in (3, 2, 1, 0)]
    assert stored() == dict.fromkeys(edges, value)

    # Performed on the 15th of two months ago, recorded now through the API.
    performed = clinic_instant(this.shift(-2).first_day.replace(day=15), time(11, 0))
    done = api("provider").post("/api/v1/treatments", json=treatment_body(
        client.id, purchase.id, performed_at=performed.isoformat()))
    assert done.status_code == 201, done.get_json()
    # Committed with the treatment: nothing after that day is left to be read.
    assert stored() == dict.fromkeys(edges[:2], value)
    last = this.shift(-1)
    report = monthly_report(db.session, last.year, last.month, NEW_YORK)
    first_session = value // 3
    assert report.packages.liability.opening_cents == value - first_session
    assert stored()[edges[2]] == value - first_session


@pytest.mark.postgres
def test_a_report_does_not_store_a_figure_while_a_backdated_write_is_in_flight(pg_app):
    h, purchase_id = face3_bought_in_june()
    writer = db.engine.connect()
    try:
        transaction = writer.begin()
        # Recorded now, performed in July: its trigger takes the shared snapshot lock.
        writer.execute(insert(Treatment).values(
            client_id=h.client.id, purchase_id=purchase_id, session_number=1, area="face",
            performed_at=clinic_instant(date(2026, 7, 20), time(10, 0)),
            recorded_at=AFTER_ALL, screening={}, acknowledged_cautions=[],
            first_visit_bundle=False, off_rhythm=False))
        # The report cannot see that row yet: it must not store what it computes.
        result: dict[str, object] = {}
        reporter = threading.Thread(target=_report_in_thread, args=(pg_app, 2026, 8, result))
        reporter.start()
        reporter.join(30)
        assert result["opening"] == 90_001  # what is committed so far
        assert stored() == {}
        transaction.commit()
    finally:
        writer.close()
    august = monthly_report(db.session, 2026, 8, NEW_YORK, now=AFTER_ALL)
    assert august.packages.liability.opening_cents == 90_001 - 30_000
    assert stored() == {boundary(2026, 8): 60_001, boundary(2026, 9): 60_001}


def _report_in_thread(app, year: int, month: int, result: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        try:
            report = monthly_report(db.session, year, month, NEW_YORK, now=AFTER_ALL)
            result["opening"] = report.packages.liability.opening_cents
        finally:
            db.session.remove()

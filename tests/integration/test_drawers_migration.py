"""The drawers migration on a database that has closed cash days: each closed day becomes a
closed drawer with its figures, and back again on downgrade (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from pos import create_app
from pos.extensions import db
from tests.integration.test_migrations import (  # noqa: F401
    empty_database_url,
    empty_pg_url,
    empty_sqlite_url,
)

BEFORE = "e4c1b7a2d9f0"
DRAWERS = "c11a0d4a3e55"


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC).replace(tzinfo=None)  # type: ignore[misc]


@pytest.fixture
def old_app(empty_database_url: str):  # type: ignore[no-untyped-def]  # noqa: F811
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision=BEFORE)
        run = db.session.execute
        run(text("INSERT INTO locations (id, code, name) VALUES (1, 'main', 'Main')"))
        run(text("INSERT INTO users (id, email, name, role, password_hash, active, created_at) "
                 "VALUES (7, 'm@x.test', 'Maria', 'manager', 'x', true, :now)"),
            {"now": _utc(2026, 11, 1)})
        # 2 November in New York: two cash sales (one at 23:30 local, 04:30 UTC the next
        # day), a card sale, a cash refund; one cash sale on the 3rd, whose day never closed.
        for sale_id, method, total, paid_at in ((1, "cash", 1000, _utc(2026, 11, 2, 15)),
                                                (2, "cash", 2500, _utc(2026, 11, 3, 4, 30)),
                                                (3, "card", 9000, _utc(2026, 11, 2, 16)),
                                                (4, "cash", 4000, _utc(2026, 11, 3, 16))):
            run(text("INSERT INTO sales (id, location_id, status, payment_method, "
                     "subtotal_cents, discount_cents, tax_cents, total_cents, created_at, "
                     "paid_at) VALUES (:id, 1, 'paid', :method, :total, 0, 0, :total, :at, :at)"),
                {"id": sale_id, "method": method, "total": total, "at": paid_at})
        run(text("INSERT INTO refunds (sale_id, location_id, amount_cents, tax_cents, reason, "
                 "method, status, created_at) VALUES (1, 1, 300, 0, 'x', 'cash', 'succeeded', "
                 ":at)"), {"at": _utc(2026, 11, 2, 18)})
        run(text("INSERT INTO cash_days (location_id, business_date, opening_float_cents, "
                 "expected_cents, counted_cents, closed_at, closed_by_id) VALUES "
                 "(1, '2026-11-02', 5000, 8200, 8000, :closed, 7), "
                 "(1, '2026-11-03', 1000, NULL, NULL, NULL, NULL)"),
            {"closed": _utc(2026, 11, 3, 5)})
        db.session.commit()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _drawers() -> list[tuple]:  # type: ignore[type-arg]
    return [tuple(row) for row in db.session.execute(text(
        "SELECT location_id, status, opening_float_cents, cash_sales_cents, cash_refunds_cents, "
        "paid_in_cents, paid_out_cents, expected_cents, counted_cents, over_short_cents, "
        "closed_by_id FROM drawers ORDER BY id"))]


def test_a_closed_cash_day_becomes_a_closed_drawer_with_its_figures(old_app):
    upgrade(revision=DRAWERS)
    assert _drawers() == [(1, "closed", 5000, 3500, 300, 0, 0, 8200, 8000, -200, 7)]
    note, opened = db.session.execute(text("SELECT note, opened_at FROM drawers")).one()
    assert note == "Cash day 2026-11-02 (closed before drawers)"
    assert str(opened).startswith("2026-11-02 05:00")  # midnight in New York (EST)
    assert "cash_days" not in db.inspect(db.engine).get_table_names()


def test_downgrade_makes_the_cash_days_again(old_app):
    upgrade(revision=DRAWERS)
    downgrade(revision=BEFORE)
    rows = [tuple(row) for row in db.session.execute(text(
        "SELECT location_id, business_date, opening_float_cents, expected_cents, "
        "counted_cents, closed_by_id FROM cash_days"))]
    assert [(loc, str(day), *rest) for loc, day, *rest in rows] == \
        [(1, "2026-11-02", 5000, 8200, 8000, 7)]
    assert "drawers" not in db.inspect(db.engine).get_table_names()

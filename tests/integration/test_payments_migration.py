"""The payments migration on a database that already has sales: one tender each, the
processor ids moved onto it, and back again on downgrade (SQLite and PostgreSQL)."""
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
    empty_sqlite_url,  # noqa: F401
)

BEFORE = "b16c3a5e0a10"  # the revision just before the payments table
PAYMENTS = "e5a1e5pay001"

# (id, payment_method, status, total, session id, intent id, last4)
SALES = [
    (1, "cash", "paid", 1000, None, None, None),
    (2, "card", "paid", 2000, "cs_paid", "pi_paid", "4242"),
    (3, "card", "awaiting_payment", 3000, "cs_open", None, None),
    (4, "card", "expired", 4000, "cs_expired", None, None),
    (5, "card", "failed", 5000, "cs_failed", None, None),
    (6, "card", "void", 6000, "cs_void_refunded", "pi_late", "1881"),
    (7, "card", "void", 7000, None, None, None),
]


@pytest.fixture
def old_app(empty_database_url: str):  # type: ignore[no-untyped-def]  # noqa: F811
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision=BEFORE)
        now = datetime(2026, 11, 1, 12, tzinfo=UTC).replace(tzinfo=None)
        db.session.execute(text("INSERT INTO locations (id, code, name) "
                                "VALUES (1, 'main', 'Main')"))
        for sale_id, method, status, total, session_id, intent, last4 in SALES:
            db.session.execute(text(
                "INSERT INTO sales (id, location_id, status, payment_method, subtotal_cents, "
                "discount_cents, tax_cents, total_cents, created_at, checkout_session_id, "
                "payment_intent_id, card_last4) VALUES (:id, 1, :status, :method, :total, 0, "
                "0, :total, :now, :sid, :pi, :last4)"),
                {"id": sale_id, "status": status, "method": method, "total": total,
                 "now": now, "sid": session_id, "pi": intent, "last4": last4})
        db.session.commit()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _tenders() -> list[tuple]:  # type: ignore[type-arg]
    return [tuple(row) for row in db.session.execute(text(
        "SELECT sale_id, method, amount_cents, status, checkout_session_id, "
        "payment_intent_id, last4, tip_cents FROM payments ORDER BY sale_id"))]


def test_every_existing_sale_gets_one_tender_by_its_state(old_app):
    upgrade(revision=PAYMENTS)

    assert _tenders() == [
        (1, "cash", 1000, "succeeded", None, None, None, 0),
        (2, "card", 2000, "succeeded", "cs_paid", "pi_paid", "4242", 0),
        (3, "card", 3000, "pending", "cs_open", None, None, 0),
        (4, "card", 4000, "cancelled", "cs_expired", None, None, 0),
        (5, "card", 5000, "failed", "cs_failed", None, None, 0),
        (6, "card", 6000, "refunded", "cs_void_refunded", "pi_late", "1881", 0),
        (7, "card", 7000, "cancelled", None, None, None, 0),
    ]
    columns = {c["name"] for c in db.inspect(db.engine).get_columns("sales")}
    assert not columns & {"checkout_session_id", "payment_intent_id", "card_last4"}


def test_downgrade_puts_the_ids_back_on_the_sales(old_app):
    upgrade(revision=PAYMENTS)
    downgrade(revision=BEFORE)

    rows = db.session.execute(text(
        "SELECT id, checkout_session_id, payment_intent_id, card_last4 FROM sales ORDER BY id"))
    assert [tuple(r) for r in rows] == [(s[0], s[4], s[5], s[6]) for s in SALES]


def test_the_migrated_database_refuses_a_status_outside_the_set(old_app):
    upgrade(revision=PAYMENTS)
    with pytest.raises(Exception, match="(?i)check"):
        db.session.execute(text("UPDATE sales SET status = 'refunded' WHERE id = 1"))
        db.session.commit()
    db.session.rollback()

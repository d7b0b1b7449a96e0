"""The roles migration on a database with users: each keeps the role they had, as a set;
the database refuses an unknown role; downgrade keeps the highest (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from pos import create_app
from pos.extensions import db
from tests.integration.test_migrations import (  # noqa: F401
    empty_database_url,
    empty_pg_url,
    empty_sqlite_url,
)

BEFORE = "e4c1b7a2d9f0"
ROLES = "b12b0a11ce55"
USERS = [(1, "desk@x.example", "front_desk"), (2, "nurse@x.example", "provider"),
         (3, "boss@x.example", "manager"), (4, "root@x.example", "admin")]


@pytest.fixture
def old_app(empty_database_url: str):  # type: ignore[no-untyped-def]  # noqa: F811
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision=BEFORE)
        now = datetime(2026, 11, 1, 12, tzinfo=UTC).replace(tzinfo=None)
        for user_id, email, role in USERS:
            db.session.execute(text(
                "INSERT INTO users (id, email, name, role, password_hash, active, created_at) "
                "VALUES (:id, :email, :email, :role, 'x', true, :now)"),
                {"id": user_id, "email": email, "role": role, "now": now})
        db.session.execute(text("INSERT INTO audit_log (at, user_id, action, entity, details) "
                                "VALUES (:now, 4, 'user.create', 'user', '{}')"), {"now": now})
        db.session.commit()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _roles() -> list[tuple[int, str]]:
    return [tuple(row) for row in db.session.execute(  # type: ignore[misc]
        text("SELECT id, roles FROM users ORDER BY id"))]


def test_each_user_keeps_their_role_as_a_set_and_unknown_roles_are_refused(old_app):
    upgrade(revision=ROLES)
    assert _roles() == [(1, "front_desk"), (2, "provider"), (3, "manager"), (4, "admin")]
    db.session.execute(text("UPDATE users SET roles = 'provider,manager' WHERE id = 2"))
    db.session.commit()
    for bad in ("root", "manager,provider", "", "admin,admin"):
        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE users SET roles = :bad WHERE id = 1"), {"bad": bad})
            db.session.flush()
        db.session.rollback()

    downgrade(revision=BEFORE)
    rows = db.session.execute(text("SELECT id, role FROM users ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, "front_desk"), (2, "manager"), (3, "manager"),
                                       (4, "admin")]

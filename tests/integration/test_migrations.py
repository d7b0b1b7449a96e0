"""`flask db upgrade` builds the schema from nothing, and the models match the migrations.

The check is alembic's own autogenerate comparison: if a model gained a column, table,
index or constraint (or changed a type) that no migration creates, it reports it.
"""
from __future__ import annotations

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from pos import create_app
from pos.extensions import db
from tests.conftest import create_database, drop_database


@pytest.fixture
def empty_sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"


@pytest.fixture
def empty_pg_url(pg_server_url: str, worker_id: str, testrun_uid: str):  # type: ignore[no-untyped-def]
    name = f"pos_migr_{testrun_uid[:8]}_{worker_id}"
    yield create_database(pg_server_url, name)
    drop_database(pg_server_url, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request) -> str:  # type: ignore[no-untyped-def]
    name = "empty_sqlite_url" if request.param == "sqlite" else "empty_pg_url"
    return request.getfixturevalue(name)


@pytest.fixture
def migrated_app(empty_database_url: str):  # type: ignore[no-untyped-def]
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


EXPRESSION_INDEXES = {"ix_clients_last_name_lower", "ix_clients_first_name_lower"}


def _differences() -> list:  # type: ignore[type-arg]
    with db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect lower() expression indexes, so alembic skips comparing them
        # (and says so); the test below checks that the migration creates them by name.
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "render_as_batch": True})
        return compare_metadata(context, db.metadata)


def test_the_migration_creates_the_name_search_expression_indexes(migrated_app):
    names = {ix["name"] for ix in inspect(db.engine).get_indexes("clients")} \
        if db.engine.dialect.name == "postgresql" else set(db.session.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'clients'"
        )).scalars())
    assert names >= EXPRESSION_INDEXES


def test_upgrade_from_an_empty_database_creates_every_table_of_the_models(migrated_app):
    tables = set(inspect(db.engine).get_table_names())
    assert "alembic_version" in tables
    missing = {t.name for t in db.metadata.sorted_tables} - tables
    assert not missing, f"tables no migration creates: {sorted(missing)}"


def test_the_models_match_the_migrations(migrated_app):
    differences = _differences()
    assert differences == [], (
        "The models and the migrations differ; the migration must be regenerated:\n"
        + "\n".join(map(str, differences)))


def test_the_migrated_schema_works_for_a_receipt_and_refuses_negative_stock(migrated_app):
    from pos.domain.errors import InsufficientStock
    from pos.services import stock
    from tests.factories import make_item

    make_item("CART-36", kind="supply", lots=[("C-1", 3, 300)])
    with pytest.raises(InsufficientStock):
        stock.adjust_stock(sku="CART-36", lot_code="C-1", qty_delta=-4, reason="count",
                           note=None, user_id=None)
    assert stock.item_row(db.session, "CART-36").on_hand == 3


def test_upgrade_is_repeatable_and_downgrade_to_base_empties_the_schema(migrated_app):
    upgrade()  # a second `flask db upgrade` (every `make run`) is a no-op
    downgrade(revision="base")
    db.session.remove()
    left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert left == set()
    upgrade()
    assert {t.name for t in db.metadata.sorted_tables} - set(inspect(db.engine).get_table_names()) \
        == set()

"""The fixture chain: app -> client -> login_as(role) for pages, api(role) for the JSON API.

`app` runs each test on SQLite and on PostgreSQL. Each test owns its data: SQLite gets a
new file, PostgreSQL a database per xdist worker whose tables are emptied after each test.
"""
from __future__ import annotations

import os
import tempfile

_INSTANCE = tempfile.mkdtemp(prefix="pos-test-instance-")
os.environ["POS_INSTANCE_DIR"] = _INSTANCE
os.environ.setdefault("POS_ENV", "test")

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from pos import create_app  # noqa: E402
from pos.extensions import db  # noqa: E402
from tests import factories  # noqa: E402

pytest_plugins: list[str] = ["tests.fixtures_clinical", "tests.fixtures_payments",
                              "tests.fixtures_notify"]

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_base_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL


def _pg_reachable(url: str) -> str | None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return str(error).splitlines()[0]
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = _pg_base_url()
    problem = _pg_reachable(url)
    if problem:
        message = f"PostgreSQL at {make_url(url).render_as_string()} is not reachable: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the PostgreSQL tests. " + message)
        pytest.skip("SKIPPING POSTGRESQL TESTS LOUDLY: " + message)
    return url


def create_database(server_url: str, name: str) -> str:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_worker_url(pg_server_url: str, worker_id: str, testrun_uid: str):  # type: ignore[no-untyped-def]
    """A database of this xdist worker's own, with the schema created once.

    The run's id is in the name: several test runs on one machine (engineers sharing a
    tree) must not drop each other's databases.
    """
    name = f"pos_test_{testrun_uid[:8]}_{worker_id}"
    url = create_database(pg_server_url, name)
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    drop_database(pg_server_url, name)


def _empty_tables() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


def make_app(url: str, **overrides):  # type: ignore[no-untyped-def]
    return create_app("test", {"SQLALCHEMY_DATABASE_URI": url, **overrides})


@pytest.fixture
def sqlite_app(tmp_path):  # type: ignore[no-untyped-def]
    app = make_app(f"sqlite:///{tmp_path / 'pos.sqlite3'}")
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_app(request):  # type: ignore[no-untyped-def]
    url = request.getfixturevalue("pg_worker_url")
    app = make_app(url)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.rollback()
            _empty_tables()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request):  # type: ignore[no-untyped-def]
    """The application on each backend in turn, inside an app context."""
    return request.getfixturevalue("sqlite_app" if request.param == "sqlite" else "pg_app")


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def users(app):  # type: ignore[no-untyped-def]
    """One user per role (password: factories.PASSWORD), created on first use."""
    return factories.UserPool()


@pytest.fixture
def login_as(client, users):  # type: ignore[no-untyped-def]
    """Sign the test client in as a user of that role; returns the user."""

    def login(role: str):  # type: ignore[no-untyped-def]
        user = users.get(role)
        factories.signed_in(client, user)
        return user

    return login


@pytest.fixture
def api(app, users):  # type: ignore[no-untyped-def]
    """api(role) -> a client of the JSON API holding a bearer token of that role."""
    return factories.ApiClients(app, users)

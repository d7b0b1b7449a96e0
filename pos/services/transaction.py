"""One use case, one transaction.

`write_transaction()` is the unit of work every service that changes data runs in. On
SQLite it opens the transaction with BEGIN IMMEDIATE, so two writers queue for the write
lock up front instead of failing half-way when one upgrades a read lock; on PostgreSQL the
services take row locks (SELECT ... FOR UPDATE) themselves, always in id order.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pos.extensions import db

_want_immediate: ContextVar[bool] = ContextVar("want_immediate", default=False)
_before_commit_hooks: list[Callable[[Session], None]] = []


def before_commit(hook: Callable[[Session], None]) -> Callable[[Session], None]:
    """Run `hook(session)` inside every write transaction, just before it commits.

    The stock alerts use it: they look at the items the transaction touched and write
    their alerts in that same transaction (a transactional outbox).
    """
    if hook not in _before_commit_hooks:
        _before_commit_hooks.append(hook)
    return hook


def run_before_commit_hooks(session: Session) -> None:
    """What write_transaction() runs before its commit (for a path that commits itself)."""
    for hook in _before_commit_hooks:
        hook(session)


@contextmanager
def write_transaction() -> Iterator[Session]:
    session = db.session()
    if session.in_transaction():
        # A view may have read (e.g. the logged-in user) in a deferred transaction; end it,
        # so the write transaction below really starts with BEGIN IMMEDIATE on SQLite.
        session.commit()
    # What an earlier, rolled-back transaction touched must not raise alerts in this one.
    session.info.pop("stock_on_hand_before", None)
    token = _want_immediate.set(True)
    try:
        session.connection()
    finally:
        _want_immediate.reset(token)
    try:
        yield session
        run_before_commit_hooks(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise


def configure_engine(engine: Engine) -> None:
    """Per-backend connection set-up; called once per engine by create_app()."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own
        # transaction handling would defer it and could not take IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _want_immediate.get() else "BEGIN")

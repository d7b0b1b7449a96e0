"""The clinic's own settings (name, address, phone, tax id, receipt footer, tax rate, time
zone): one row in the database, seeded on first use, cached per process.

Reading. `clinic_settings(session)` answers a frozen `ClinicSettings`. Each process keeps
the last row it read (per database engine) and may answer from that copy only when the
caller's session has already seen the row's current `version` in this unit of work (one
request, one worker round, one CLI command); otherwise it reads the row: one SELECT by
primary key, at most once per session.

Why this invalidation, and not a TTL: the sign-in lookup that every authenticated request
makes anyway carries the version as a scalar subquery (`with_version()`, used by the web
layer's user loader and `staff.user_for_token`), and hands it to `note_version()`. So a
signed-in request (a sale, the hot path) pays no statement at all for these settings, and
still sees an update committed by any process before the request began: exact, with no
window of staleness and no timing in tests. A request with no sign-in lookup (the sign-in
page, the Stripe webhook), the worker and the CLI pay one indexed SELECT per session.

The version is drawn at random at each write, not counted: a write rolled back after a
read cached it, or a database re-created or restored from a backup, can never show the
version of other content, which a counter restarting at 1 could.

Writing. `update_clinic_settings(session, changes, user_id)` checks the change with the
pure rule `pos.domain.clinic.apply_changes` (named errors: invalid_timezone,
invalid_tax_rate, validation_error), writes it under the row lock with a new version and
an audit entry, in the caller's transaction (the caller commits).
"""
from __future__ import annotations

import secrets
import weakref
from collections.abc import Mapping
from dataclasses import asdict

from sqlalchemy import ScalarSelect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pos.domain.clinic import EDITABLE, ClinicSettings, apply_changes, first_values
from pos.models import ClinicSettingsRow
from pos.models.types import utcnow
from pos.services import audit
from pos.settings import Settings, settings_for

ROW_ID = 1
_SEEN_KEY = "clinic_settings_version"  # in session.info: the version this session has seen

_cache: weakref.WeakKeyDictionary[Engine, ClinicSettings] = weakref.WeakKeyDictionary()


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _new_version() -> int:
    return secrets.randbelow(2**62) + 1  # fits a BIGINT; never 0 (0: "not stored")


def with_version() -> ScalarSelect[int]:
    """The row's version as a scalar subquery, to add to a query the caller makes anyway:
    `select(User, clinic.with_version()).where(...)`."""
    return (select(ClinicSettingsRow.version).where(ClinicSettingsRow.id == ROW_ID)
            .scalar_subquery())


def note_version(session: Session, version: int | None) -> None:
    """Record the version a query of this session read (None: no row yet)."""
    session.info[_SEEN_KEY] = version


def forget(session: Session) -> None:
    """The next clinic_settings() on this session reads the row (a worker's new round)."""
    session.info.pop(_SEEN_KEY, None)


def clinic_settings(session: Session, first: Settings | None = None) -> ClinicSettings:
    """The clinic's settings; the row is created from `first` (CLINIC_NAME, TAX_RATE_BP,
    CLINIC_TIMEZONE) when there is none yet. `first` defaults to the settings bound to
    the session's database (pos.settings.settings_for)."""
    engine = _engine(session)
    cached = _cache.get(engine)
    seen = session.info.get(_SEEN_KEY)
    if cached is not None and seen is not None and cached.version == seen:
        return cached
    row = session.get(ClinicSettingsRow, ROW_ID, populate_existing=True)
    if row is None:
        row = _seed(session, first or settings_for(session))
    value = _value(row)
    _cache[engine] = value
    note_version(session, value.version)
    return value


def _value(row: ClinicSettingsRow) -> ClinicSettings:
    return ClinicSettings(**{name: getattr(row, name) for name in EDITABLE},
                          version=row.version)


def _seed(session: Session, settings: Settings) -> ClinicSettingsRow:
    """Insert the first row unless another process just did; either way, read it back.

    INSERT ... ON CONFLICT DO NOTHING: two processes seeding at once do not fail, the
    loser reads the winner's row (both dialects the app runs on support it).
    """
    values = first_values(settings.clinic_name, settings.tax_rate_bp, settings.clinic_timezone)
    row = {**asdict(values), "id": ROW_ID, "version": _new_version(), "updated_at": utcnow()}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(ClinicSettingsRow).values(**row)
                    .on_conflict_do_nothing(index_elements=["id"]))
    seeded = session.get(ClinicSettingsRow, ROW_ID, populate_existing=True)
    assert seeded is not None  # inserted now, or by the process that won
    return seeded


def update_clinic_settings(session: Session, changes: Mapping[str, object],
                           user_id: int | None) -> ClinicSettings:
    """Apply `changes` (a subset of the editable fields) in the caller's transaction.

    Refused as a whole when any field is bad (nothing written). The row is locked, so two
    admins saving at once apply one after the other, each on the other's result.
    """
    clinic_settings(session)  # seeds the row if this is the first use
    row = session.get(ClinicSettingsRow, ROW_ID, with_for_update=True, populate_existing=True)
    assert row is not None
    current = _value(row)
    updated = apply_changes(current, changes)
    changed = sorted(name for name in EDITABLE
                     if getattr(updated, name) != getattr(current, name))
    if not changed:
        return current
    for name in changed:
        setattr(row, name, getattr(updated, name))
    row.version = _new_version()
    row.updated_at = utcnow()
    row.updated_by_id = user_id
    # Names of the fields, and the figures that change what a sale charges or which day
    # it is; free text (address, phone) is not copied into the audit trail.
    figures = {f"{name}_was": getattr(current, name) for name in ("tax_rate_bp", "timezone")
               if name in changed}
    audit.record(session, user_id, "clinic_settings.update", "clinic_settings", ROW_ID,
                 fields=changed, **figures)
    session.flush()
    # Not cached here: the caller may still roll back. The next read in this session
    # reads the row; other processes see the new version on their next sign-in lookup.
    forget(session)
    return _value(row)

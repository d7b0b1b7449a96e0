"""The clinic's own settings: one row seeded from the environment, changed by an admin
through a checked, audited service, read by the clock and the alerts, cached per process."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import event, func, select

from pos import update_settings
from pos.domain.clinic import InvalidTaxRate, InvalidTimezone
from pos.extensions import db
from pos.models import AuditEntry, ClinicSettingsRow, OutboxMessage
from pos.services import alerts, clinic, clock
from tests.conftest import make_app
from tests.factories import UserPool, make_item, settings, signed_in

ROOT = Path(__file__).resolve().parents[2]
# 03:00 UTC on 1 March: still 28 February in New York, already 1 March in Tokyo.
AT = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(ClinicSettingsRow)) or 0


def test_the_row_is_seeded_from_the_environment_on_first_use(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINIC_NAME", "Harbor Skin Studio")
    monkeypatch.setenv("TAX_RATE_BP", "725")
    monkeypatch.setenv("CLINIC_TIMEZONE", "Europe/Paris")
    app = make_app(f"sqlite:///{tmp_path / 'pos.sqlite3'}")
    with app.app_context():
        db.create_all()
        assert rows() == 0
        first = clinic.clinic_settings(db.session())
        db.session.commit()
        assert (first.clinic_name, first.tax_rate_bp, first.timezone) == \
            ("Harbor Skin Studio", 725, "Europe/Paris")
        assert (first.address, first.phone, first.tax_id, first.receipt_footer) == \
            ("", "", "", "")
        assert rows() == 1
        # The environment gives only the first values: later it changes nothing.
        update_settings(app, TAX_RATE_BP=900)
        db.session.remove()
        assert clinic.clinic_settings(db.session()).tax_rate_bp == 725
        db.session.remove()
        db.engine.dispose()


def test_an_update_moves_today_and_the_tax_rate_and_is_audited(app, users):
    admin = users.get("admin")
    update_settings(app, CLINIC_TIMEZONE="America/New_York", TAX_RATE_BP=800)
    assert clock.clinic_date(AT).isoformat() == "2026-02-28"
    changed = clinic.update_clinic_settings(
        db.session(), {"timezone": "Asia/Tokyo", "tax_rate_bp": 650, "phone": "555-0100"},
        admin.id)
    db.session.commit()
    assert (changed.timezone, changed.tax_rate_bp, changed.phone) == ("Asia/Tokyo", 650,
                                                                      "555-0100")
    assert clock.clinic_date(AT).isoformat() == "2026-03-01"
    with freeze_time(AT):
        assert clock.today().isoformat() == "2026-03-01"
    assert clinic.clinic_settings(db.session()).tax_rate_bp == 650
    [entry] = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "clinic_settings.update")).all()
    assert entry.user_id == admin.id
    assert entry.details == {"fields": ["phone", "tax_rate_bp", "timezone"],
                             "tax_rate_bp_was": 800, "timezone_was": "America/New_York"}


def test_the_digest_follows_the_clinic_day_of_the_new_zone(app):
    update_settings(app, DIGEST_HOUR=7)
    make_item("LIDO", kind="supply", reorder_point=5, lots=[("L-1", 2, 200)])
    # 23:00 UTC on 10 February: 18:00 in New York, 08:00 on the 11th in Tokyo.
    evening = datetime(2026, 2, 10, 23, 0, tzinfo=UTC)
    clinic.update_clinic_settings(db.session(), {"timezone": "Asia/Tokyo"}, None)
    db.session.commit()
    assert alerts.queue_daily_digest(settings(), evening) is True
    keys = db.session.scalars(select(OutboxMessage.dedupe_key).where(
        OutboxMessage.topic == "digest")).all()
    assert keys == ["digest:2026-02-11"]


def test_the_digest_names_the_clinic_from_its_settings(app):
    clinic.update_clinic_settings(db.session(), {"clinic_name": "Harbor Skin Studio"}, None)
    db.session.commit()
    noon = datetime.now(UTC).astimezone(clock.clinic_zone()).replace(hour=12, minute=0)
    assert alerts.queue_daily_digest(settings(), noon) is True
    body = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.topic == "digest"))
    assert body is not None and body.splitlines()[0].endswith("- Harbor Skin Studio")


@pytest.mark.parametrize(("changes", "error"), [
    ({"timezone": "Mars/Olympus"}, InvalidTimezone),
    ({"tax_rate_bp": 10_001}, InvalidTaxRate),
    ({"tax_rate_bp": -1}, InvalidTaxRate),
])
def test_a_bad_zone_or_rate_is_refused_by_name_and_nothing_changes(app, changes, error):
    before = clinic.clinic_settings(db.session())
    db.session.commit()
    with pytest.raises(error) as refused:
        clinic.update_clinic_settings(db.session(), {**changes, "phone": "555"}, None)
    db.session.rollback()
    assert refused.value.details["fields"].keys() == changes.keys()
    db.session.remove()
    after = clinic.clinic_settings(db.session())
    assert after == before  # the same version: the phone was not written either
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_database_refuses_a_second_row_and_a_rate_out_of_range(app):
    from sqlalchemy.exc import IntegrityError

    clinic.clinic_settings(db.session())
    db.session.commit()
    row = db.session.get(ClinicSettingsRow, 1)
    assert row is not None
    row.tax_rate_bp = 20_000
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _statements(engine):  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


def test_a_signed_in_request_pays_no_statement_for_the_clinic_settings(app, client, login_as):
    login_as("manager")
    clinic.update_clinic_settings(db.session(), {"clinic_name": "Harbor Skin Studio"}, None)
    db.session.commit()
    assert "Harbor Skin Studio" in client.get("/stock/").get_data(as_text=True)
    db.session.remove()  # a new request's session: it has seen no version yet
    seen, stop = _statements(db.engine)
    try:
        page = client.get("/stock/").get_data(as_text=True)
    finally:
        stop()
    assert "Harbor Skin Studio" in page
    own = [s for s in seen if s.startswith("SELECT clinic_settings.")]
    assert own == []  # the version came with the user lookup; the row from the cache
    # The session's lookup (staff_sessions joined with users) carries the version.
    assert any("FROM clinic_settings" in s and "FROM staff_sessions JOIN users" in s
               for s in seen)


@pytest.mark.postgres
def test_a_change_made_by_another_process_shows_on_the_next_request(pg_app):
    manager = UserPool().get("manager")
    client = pg_app.test_client()
    signed_in(client, manager)
    assert "Glow Microneedling Clinic" in client.get("/stock/").get_data(as_text=True)
    db.session.commit()
    script = textwrap.dedent("""
        import sys
        from pos import create_app
        from pos.extensions import db
        from pos.services import clinic
        app = create_app("test", {"SQLALCHEMY_DATABASE_URI": sys.argv[1]})
        with app.app_context():
            clinic.update_clinic_settings(
                db.session(), {"clinic_name": "Renamed Elsewhere", "tax_rate_bp": 450}, None)
            db.session.commit()
            db.engine.dispose()
    """)
    url = pg_app.config["SQLALCHEMY_DATABASE_URI"]
    done = subprocess.run([sys.executable, "-c", script, url], cwd=ROOT, timeout=120,
                          env={**os.environ, "POS_ENV": "test"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # This process still holds the old row in its cache; the next signed-in request's user
    # lookup brings the new version, so the page shows the new name at once.
    page = client.get("/stock/").get_data(as_text=True)
    assert "Renamed Elsewhere" in page and "Glow Microneedling Clinic" not in page
    assert clinic.clinic_settings(db.session()).tax_rate_bp == 450


@pytest.mark.postgres
def test_two_processes_seeding_at_once_both_read_the_one_row(pg_app):
    """The second seeder waits on the first one's INSERT, then reads its row: no error."""
    import threading

    from sqlalchemy import create_engine, text

    url = pg_app.config["SQLALCHEMY_DATABASE_URI"]
    other = create_engine(url)
    results: list[object] = []
    with other.connect() as first:
        first.execute(text(
            "INSERT INTO clinic_settings (id, clinic_name, address, phone, tax_id, "
            "receipt_footer, tax_rate_bp, timezone, version, updated_at) VALUES "
            "(1, 'Seeded First', '', '', '', '', 500, 'UTC', 111, now())"))

        def second() -> None:
            with pg_app.app_context():
                try:
                    results.append(clinic.clinic_settings(db.session()))
                    db.session.commit()
                except Exception as error:  # noqa: BLE001 - the test reports it
                    results.append(error)
                finally:
                    db.session.remove()

        thread = threading.Thread(target=second)
        thread.start()
        # Until the second seeder is blocked on the first one's uncommitted row (asked on a
        # connection of its own: pg_stat_activity is a snapshot per transaction).
        with other.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            while not watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar():
                thread.join(0.05)
                assert thread.is_alive(), results
        first.commit()
        thread.join(30)
    other.dispose()
    [seen] = results
    assert not isinstance(seen, Exception), seen
    assert (seen.clinic_name, seen.tax_rate_bp, seen.version) == ("Seeded First", 500, 111)


def test_a_cash_sale_through_the_api_pays_no_statement_for_the_clinic_settings(app, api):
    make_item("SERUM", price_cents=5000, lots=[("L-1", 5, 200)])
    desk = api("front_desk")
    clinic.clinic_settings(db.session())  # seeded and cached by an earlier request
    db.session.commit()
    db.session.remove()  # the sale's request starts with a session that has seen nothing
    seen, stop = _statements(db.engine)
    try:
        response = desk.post("/api/v1/sales", json={
            "payment": "cash", "cash_tendered_cents": 10000,
            "lines": [{"sku": "SERUM", "quantity": 1}]})
    finally:
        stop()
    assert response.status_code == 201, response.json
    assert response.json["status"] == "paid"
    # "Today" (the clinic's zone) was needed for the sale; its version came with the token.
    assert [s for s in seen if s.startswith("SELECT clinic_settings.")] == []
    assert any("FROM clinic_settings" in s and "JOIN api_tokens" in s for s in seen)

"""`pos worker`: one round with --once (both backends), and real processes on PostgreSQL:
two workers share 200 messages, each delivered exactly once; SIGTERM stops them cleanly."""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from pos import update_settings
from pos.extensions import db
from pos.models import Alert, OutboxMessage
from pos.services.transaction import write_transaction
from tests.conftest import create_database, drop_database, make_app
from tests.factories import make_item
from tests.worker_process import WorkerProcess, worker_env


def test_one_round_raises_the_expiring_lot_alert_and_delivers_it(mail_app, smtp_server):
    update_settings(mail_app, DIGEST_HOUR=24)  # no digest today: only the alert is under test
    make_item("LIDO", name="Lidocaine 23 %", kind="supply", reorder_point=0,
              lots=[("L-1187", 40, 20)])

    result = mail_app.test_cli_runner().invoke(args=["pos", "worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "expiring_lot_alerts=1" in result.output and "delivered=1" in result.output
    assert result.output.splitlines()[-1] == "pos worker: stopped"
    (subject,) = smtp_server.subjects()
    assert subject.endswith(": Lidocaine 23 % (LIDO) lot L-1187 - 40 on hand")
    db.session.rollback()
    (alert,) = db.session.scalars(select(Alert)).all()
    assert alert.kind == "expiring_lot" and alert.delivered_at is not None


def test_a_round_survives_a_failing_job_and_runs_the_others(mail_app, smtp_server,
                                                             monkeypatch):
    def broken() -> int:
        raise RuntimeError("the report query failed")

    update_settings(mail_app, DIGEST_HOUR=24)
    monkeypatch.setattr("pos.services.alerts.check_expiring_lots", broken)
    with write_transaction() as session:
        session.add(OutboxMessage(channel="email", topic="receipt", recipients="a@b.test",
                                  subject="Receipt 1", body="Thank you"))
    result = mail_app.test_cli_runner().invoke(args=["pos", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "delivered=1" in result.output
    assert smtp_server.subjects() == ["Receipt 1"]


# --------------------------------------------------------- real processes on PostgreSQL

@pytest.mark.postgres
@pytest.mark.parametrize("schema", ["migrations", "create_all"])
def test_a_commit_that_queues_a_message_notifies_the_workers_and_a_rollback_does_not(
        pg_server_url, schema):
    import psycopg
    from flask_migrate import downgrade, upgrade

    from pos.worker import listen_url

    name = f"pos_notify_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server_url, name)
    app = make_app(url)
    listener = psycopg.connect(listen_url(url), autocommit=True)
    try:
        listener.execute("LISTEN pos_outbox")
        with app.app_context():
            if schema == "migrations":
                upgrade()
            else:
                db.create_all()

            def queue(commit: bool) -> None:
                with write_transaction() as session:
                    session.add(OutboxMessage(channel="email", topic="receipt",
                                              recipients="a@b.test", subject="Receipt"))
                    if not commit:
                        raise LookupError("rolled back")

            with pytest.raises(LookupError):
                queue(commit=False)
            assert list(listener.notifies(timeout=0.5)) == []
            queue(commit=True)
            (note,) = list(listener.notifies(timeout=10, stop_after=1))
            assert note.channel == "pos_outbox"
            if schema == "migrations":
                downgrade(revision="9d6d47011c85")  # the trigger and its function go too
                db.session.remove()
                with db.engine.connect() as conn:
                    assert conn.scalar(text("SELECT count(*) FROM pg_proc "
                                            "WHERE proname = 'pos_outbox_notify'")) == 0
            db.session.remove()
            db.engine.dispose()
    finally:
        listener.close()
        drop_database(pg_server_url, name)


MESSAGES = 200


def listeners(url: str) -> int:
    """How many sessions are waiting on LISTEN (a worker that is up and listening)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query = 'LISTEN pos_outbox'")) or 0
    finally:
        engine.dispose()


def delivered_by(worker: WorkerProcess) -> int:
    """The messages this worker says it sent (its log lines carry counts only)."""
    total = 0
    for line in worker.log().splitlines():
        if '"worker round: ' in line:
            for part in line.split('"worker round: ', 1)[1].split('"', 1)[0].split():
                name, _, value = part.partition("=")
                if name == "delivered":
                    total += int(value)
    return total


@pytest.mark.postgres
@pytest.mark.xdist_group("pg_drills")
def test_two_worker_processes_deliver_200_messages_each_exactly_once(
        pg_server_url, smtp_server, tmp_path):
    name = f"pos_workers_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server_url, name)
    app = make_app(url)
    workers: list[WorkerProcess] = []
    try:
        with app.app_context():
            db.create_all()
            db.session.remove()
        env = worker_env(url, tmp_path, DIGEST_HOUR=24, **smtp_server.config())
        workers = [WorkerProcess(env, tmp_path, f"worker-{n}") for n in (1, 2)]
        deadline = time.monotonic() + 60
        while listeners(url) < 2:
            assert time.monotonic() < deadline, workers[0].log()[-2000:]
            assert all(w.process.poll() is None for w in workers), workers[0].log()[-2000:]
            time.sleep(0.2)

        # One commit queues all 200; its NOTIFY wakes both workers at once.
        with app.app_context():
            with write_transaction() as session:
                session.add_all(OutboxMessage(
                    channel="email", topic="receipt", recipients=f"client{n}@example.test",
                    subject=f"Receipt {n}", body="Thank you") for n in range(MESSAGES))
            db.session.remove()

        assert smtp_server.wait_for(MESSAGES, timeout=120), len(smtp_server.messages)
        with app.app_context():
            deadline = time.monotonic() + 60
            while db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.delivered_at.is_(None))):
                assert time.monotonic() < deadline
                db.session.rollback()
                time.sleep(0.2)
            db.session.rollback()
            attempts = db.session.scalars(select(OutboxMessage.attempts)).all()
            db.session.remove()
        assert [w.terminate() for w in workers] == [0, 0]  # SIGTERM: a clean stop

        # Both workers are gone: nothing more can arrive. Each message came exactly once.
        subjects = smtp_server.subjects()
        assert len(subjects) == MESSAGES
        assert sorted(subjects) == sorted(f"Receipt {n}" for n in range(MESSAGES))
        assert sorted(attempts) == [1] * MESSAGES
        shares = [delivered_by(w) for w in workers]
        assert sum(shares) == MESSAGES and all(shares), shares  # both took part
        for worker in workers:
            assert worker.output().splitlines()[-1] == "pos worker: stopped"
            assert "example.test" not in worker.log()  # no addresses in the logs
    finally:
        for worker in workers:
            worker.kill()
        with app.app_context():
            db.engine.dispose()
        drop_database(pg_server_url, name)

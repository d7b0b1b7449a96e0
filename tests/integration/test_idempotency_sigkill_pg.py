"""Drill: the gunicorn worker serving a sale is killed (SIGKILL) mid-request, after it
claimed the Idempotency-Key and before it answered. The client's retry with the same key
gets 409 `request_in_progress` while the claim's lease runs, then takes the key over and
makes the sale: exactly one sale exists, and the retry answers 201.

The request is held mid-flight honestly: the test locks the stock row the sale needs
(`SELECT ... FOR UPDATE`), and waits until PostgreSQL shows the worker's query waiting on
that lock before killing the worker.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from pos.extensions import db
from pos.models import IdempotencyRecord, ItemStock, Sale, StockMovement
from pos.services import staff
from tests.conftest import create_database, drop_database, make_app
from tests.factories import UserPool, make_item
from tests.fixtures_notify import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("pg_drills")]

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
LEASE_SECONDS = 3
SALE = {"payment": "cash", "lines": [{"sku": "SERUM", "quantity": 2}]}


def post_sale(port: int, token: str, key: str) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/sales", data=json.dumps(SALE).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                 "Idempotency-Key": key}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), dict(error.headers)


def gunicorn_workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()]


def wait_until(condition, what: str, timeout: float = 60):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting: {what}")


def test_a_sale_whose_worker_was_killed_mid_request_is_made_once_by_the_retry(
        pg_server_url, tmp_path):
    name = f"pos_idem_kill_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server_url, name)
    app = make_app(url)
    server = None
    locker = create_engine(url)
    try:
        with app.app_context():
            db.create_all()
            make_item("SERUM", price_cents=6500, lots=[("S-1", 10, 200)])
            token = staff.create_token(UserPool().get("front_desk").email)
            db.session.remove()
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "POS_ENV": "production",
               "SECRET_KEY": "drill-secret-key", "POS_INSTANCE_DIR": str(tmp_path),
               "IDEMPOTENCY_LEASE_SECONDS": str(LEASE_SECONDS)}
        log = tmp_path / "gunicorn.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", "1", "wsgi:app"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)

        def healthy() -> bool:
            assert server.poll() is None, log.read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    return True
            except OSError:
                return False

        wait_until(healthy, "gunicorn to serve")
        (victim,) = gunicorn_workers(server.pid)

        # Hold the stock row the sale must lock, then send the sale.
        hold = locker.connect()
        hold.begin()
        hold.execute(select(ItemStock).with_for_update())
        outcome: dict[str, object] = {}

        def first_attempt() -> None:
            try:
                outcome["answer"] = post_sale(port, token, "till-1-sale-7")
            except OSError as error:  # the worker died: no answer
                outcome["error"] = error

        client = threading.Thread(target=first_attempt)
        client.start()
        with locker.connect() as watch:
            wait_until(lambda: watch.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar(), "the sale to wait on the lock")
        os.kill(victim, signal.SIGKILL)
        client.join(30)
        assert "error" in outcome, outcome  # the client never got an answer
        hold.rollback()
        hold.close()

        # The retry: 409 while the dead request's lease runs, then the sale, once.
        answers = []
        while True:
            status, body, headers = post_sale(port, token, "till-1-sale-7")
            answers.append(status)
            if status != 409:
                break
            assert body["error"]["code"] == "request_in_progress"
            assert int(headers["Retry-After"]) <= LEASE_SECONDS + 1
            assert len(answers) < 100, answers
            time.sleep(0.5)
        assert status == 201, (body, log.read_text()[-3000:])
        assert body["status"] == "paid"
        assert victim not in gunicorn_workers(server.pid)  # a new worker answered

        again = post_sale(port, token, "till-1-sale-7")
        assert (again[0], again[1]["id"], again[2].get("Idempotent-Replayed")) == \
            (201, body["id"], "true")

        with app.app_context():
            sales = db.session.scalars(select(Sale)).all()
            assert [s.id for s in sales] == [body["id"]]
            moved = db.session.scalar(select(func.sum(StockMovement.qty_delta)).where(
                StockMovement.reference == f"sale:{body['id']}"))
            assert moved == -2
            assert db.session.scalars(select(ItemStock.on_hand)).one() == 8
            (record,) = db.session.scalars(select(IdempotencyRecord)).all()
            assert record.status_code == 201 and record.response["id"] == body["id"]
            db.session.remove()
            db.engine.dispose()
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        locker.dispose()
        drop_database(pg_server_url, name)

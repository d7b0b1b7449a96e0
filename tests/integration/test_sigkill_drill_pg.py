"""Drill: the app server is killed (SIGKILL) after the client paid at Stripe and before the
webhook got through. After a restart, `pos reconcile-stripe` settles the sale, and Stripe's
later redelivery of the event changes nothing: the sale is fulfilled exactly once."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import ItemStock, Sale, StockMovement
from pos.services import staff
from tests.conftest import create_database, drop_database, make_app
from tests.factories import UserPool, make_item
from tests.fixtures_payments import WEBHOOK_SECRET
from tests.stripe_standin import StripeStandIn, post_payload

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("pg_drills")]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving wsgi:app on 127.0.0.1, in a process group of its own."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                 "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log.read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not start: " + log.read_text()[-2000:])

    def kill(self) -> None:
        """SIGKILL to the master and its workers: no shutdown code runs."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)

    def post(self, path: str, body: dict, token: str) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            method="POST")
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


def test_a_payment_made_while_the_app_was_killed_is_settled_once_after_restart(
        pg_server_url, tmp_path):
    name = f"pos_sigkill_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server_url, name)
    standin = StripeStandIn(webhook_secret=WEBHOOK_SECRET).start()
    server = None
    try:
        app = make_app(url)
        with app.app_context():
            db.create_all()
            make_item("SERUM", price_cents=6500, lots=[("S-1", 10, 200)])
            token = staff.create_token(UserPool().get("front_desk").email)
            db.session.remove()
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "POS_ENV": "production",
               "SECRET_KEY": "drill-secret-key",
               "STRIPE_SECRET_KEY": "sk_test_drill", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
               "STRIPE_API_BASE": standin.api_base, "POS_INSTANCE_DIR": str(tmp_path)}
        log = tmp_path / "gunicorn.log"
        server = Server(env, port, log)
        status, sale = server.post("/api/v1/sales", {
            "payment": "card", "lines": [{"sku": "SERUM", "quantity": 3}]}, token)
        assert status == 201 and sale["status"] == "awaiting_payment"

        server.kill()
        standin.pay(sale["checkout_session_id"])
        webhook = f"http://127.0.0.1:{port}/stripe/webhook"
        event = standin.event(sale["checkout_session_id"], "checkout.session.completed")
        with pytest.raises(OSError):  # Stripe's first delivery: nobody listening
            post_payload(webhook, *event)

        server = Server(env, port, log)
        reconcile = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", "pos", "reconcile-stripe"], cwd=ROOT,
            env=env, capture_output=True, text=True, timeout=120, check=False)
        assert reconcile.returncode == 0, reconcile.stderr[-2000:]
        assert "paid=1" in reconcile.stdout
        assert post_payload(webhook, *event) == 200  # Stripe retries later: a no-op now
        again = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", "pos", "reconcile-stripe"], cwd=ROOT,
            env=env, capture_output=True, text=True, timeout=120, check=False)
        assert "paid=0" in again.stdout

        with app.app_context():
            settled = db.session.get(Sale, sale["id"])
            assert (settled.status, settled.receipt_number) == ("paid", 1)
            moved = db.session.scalar(select(func.sum(StockMovement.qty_delta)).where(
                StockMovement.reference == f"sale:{sale['id']}"))
            assert moved == -3
            stock = db.session.scalars(select(ItemStock)).one()
            assert (stock.on_hand, stock.held) == (7, 0)
            db.session.remove()
            db.engine.dispose()
    finally:
        if server is not None:
            server.stop()
        standin.stop()
        drop_database(pg_server_url, name)

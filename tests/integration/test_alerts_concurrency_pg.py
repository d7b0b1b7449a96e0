"""Alerts under concurrency on PostgreSQL: many sales at once, several deliverers at once."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pos import create_app, update_settings
from pos.extensions import db
from pos.models import Alert, OutboxMessage
from pos.notify.outbox import deliver_pending
from pos.services import clock, sales, stock
from pos.services.sales import CartLine
from tests.conftest import create_database, drop_database
from tests.factories import make_item, receive, settings
from tests.fixtures_payments import make_client

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("alerts_pg")]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_mail_app(pg_app, smtp_server):  # type: ignore[no-untyped-def]
    update_settings(pg_app, **smtp_server.config(), ALERT_EMAIL_TO="manager@clinic.test")
    return pg_app


def at_once(app, count: int, action: Callable[[int], None]) -> list[BaseException]:  # type: ignore[no-untyped-def]
    """Run `action(i)` in `count` threads released together, each in its own app context."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(10)
                action(i)
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def low_stock_subjects(smtp_server) -> list[str]:  # type: ignore[no-untyped-def]
    return [s for s in smtp_server.subjects() if s.startswith(("Low stock", "Out of stock"))]


def alert_kinds() -> list[str]:
    db.session.expire_all()
    return [a.kind for a in db.session.scalars(select(Alert).order_by(Alert.id))]


def sell_one(sku: str) -> None:
    stock.adjust_stock(sku=sku, lot_code="L-1", qty_delta=-1, reason="other", note=None,
                       user_id=None)


def test_ten_concurrent_sales_crossing_the_point_send_exactly_one_low_stock_email(
        pg_mail_app, smtp_server):
    make_item("SERUM", reorder_point=5, lots=[("L-1", 14, 200)])
    errors = at_once(pg_mail_app, 10, lambda _i: sell_one("SERUM"))
    assert errors == []
    assert stock.item_row(db.session, "SERUM").on_hand == 4
    assert alert_kinds() == ["low_stock"]
    assert smtp_server.messages == []  # nothing is sent from inside a transaction
    deliver_pending()
    assert low_stock_subjects(smtp_server) == [
        "Low stock: Serum (SERUM) - 5 available, reorder point 5"]

    # Selling on while low: no second email.
    assert at_once(pg_mail_app, 3, lambda _i: sell_one("SERUM")) == []
    deliver_pending()
    assert len(low_stock_subjects(smtp_server)) == 1

    # Back above the point, then down again: a new one.
    receive("SERUM", 10, "L-1", clock.today() + timedelta(days=200))  # 11 on hand
    assert at_once(pg_mail_app, 8, lambda _i: sell_one("SERUM")) == []  # 3 left
    deliver_pending()
    assert alert_kinds() == ["low_stock", "low_stock"]
    assert low_stock_subjects(smtp_server) == [
        "Low stock: Serum (SERUM) - 5 available, reorder point 5",
        "Low stock: Serum (SERUM) - 5 available, reorder point 5",
    ]


def test_ten_concurrent_cash_sales_crossing_the_point_send_exactly_one_email(
        pg_mail_app, smtp_server):
    make_item("SERUM", reorder_point=5, lots=[("L-1", 15, 200)])
    client_id = make_client("Ana", "Lopez", None)

    def cash_sale(_i: int) -> None:
        sales.sell(client_id=client_id, lines=[CartLine("SERUM", None, 1)],
                   discount_code=None, payment="cash", user_id=None, settings=settings())

    cash_sale(0)  # opens the clinic day
    assert at_once(pg_mail_app, 10, cash_sale) == []
    assert stock.item_row(db.session, "SERUM").on_hand == 4
    assert alert_kinds() == ["low_stock"]
    deliver_pending()
    assert low_stock_subjects(smtp_server) == [
        "Low stock: Serum (SERUM) - 5 available, reorder point 5"]


def test_two_deliverers_at_once_send_each_message_once(pg_mail_app, smtp_server):
    for n in range(12):
        make_item(f"ITEM{n:02d}", reorder_point=2, lots=[("L-1", 3, 200)])
        sell_one(f"ITEM{n:02d}")
    results: list[int] = []
    errors = at_once(pg_mail_app, 2, lambda _i: results.append(deliver_pending().delivered))
    assert errors == []
    assert sum(results) == 12
    counts = Counter(low_stock_subjects(smtp_server))
    assert len(counts) == 12 and set(counts.values()) == {1}


@pytest.fixture
def cli_database(pg_server_url):  # type: ignore[no-untyped-def]
    name = f"pos_alerts_cli_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server_url, name)
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url,
                              "ALERT_EMAIL_TO": "manager@clinic.test"})
    with app.app_context():
        db.create_all()
        try:
            yield app, url
        finally:
            db.session.remove()
            db.engine.dispose()
            drop_database(pg_server_url, name)


def test_two_deliver_alerts_processes_at_once_deliver_each_alert_once(cli_database,
                                                                      smtp_server):
    app, url = cli_database
    for n in range(20):
        make_item(f"ITEM{n:02d}", reorder_point=2, lots=[("L-1", 3, 200)])
        sell_one(f"ITEM{n:02d}")
    make_item("LIDO", kind="supply", reorder_point=0, lots=[("SOON", 4, 10)])
    env = {**os.environ, "POS_ENV": "development", "SECRET_KEY": "cli-test-secret",
           "DATABASE_URL": url, "MAIL_SERVER": smtp_server.host,
           "MAIL_PORT": str(smtp_server.port), "ALERT_EMAIL_TO": "manager@clinic.test",
           "DIGEST_HOUR": "0", "EXPIRY_WARNING_DAYS": "30"}
    env.pop("MAIL_USE_TLS", None)
    env.pop("ALERT_WEBHOOK_URL", None)
    flask = str(Path(sys.executable).parent / "flask")
    processes = [subprocess.Popen([flask, "--app", "wsgi", "pos", "deliver-alerts"], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    subjects = Counter(smtp_server.subjects())
    assert set(subjects.values()) == {1}, subjects
    assert sum(1 for s in subjects if s.startswith("Low stock")) == 20
    assert sum(1 for s in subjects if s.startswith("Expiring lot: Lido (LIDO) lot SOON")) == 1
    assert sum(1 for s in subjects if s.startswith("Stock digest")) == 1
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage.delivered_at)).all().count(None) == 0
    assert sorted(a.kind for a in db.session.scalars(select(Alert))) == \
        ["expiring_lot"] + ["low_stock"] * 20

"""On PostgreSQL: one open drawer per location, whatever runs at the same time."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from pos.extensions import db
from pos.models import Drawer, DrawerEntry
from pos.services import drawers
from pos.services.ledger import default_location
from pos.services.transaction import write_transaction
from tests.factories import make_item

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def app(pg_app):  # type: ignore[no-untyped-def]
    return pg_app


def _wait_for_a_lock_wait(errors: list[BaseException], worker: threading.Thread) -> int:
    # Autocommit: PostgreSQL keeps one snapshot of pg_stat_activity per transaction.
    waiting = 0
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        for _ in range(600):
            waiting = watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()")).scalar() or 0
            if waiting or errors or not worker.is_alive():
                break
            time.sleep(0.05)
    return waiting


def test_concurrent_first_cash_sales_open_one_drawer(app, api):
    make_item("SERUM", price_cents=6500, lots=[("S-1", 50, 300)])
    desk = api("front_desk")
    start = threading.Barrier(8)

    def one_sale(_: int) -> tuple[int, str]:
        start.wait(30)
        response = desk.post("/api/v1/sales", json={
            "payment": "cash", "lines": [{"sku": "SERUM", "quantity": 1}]})
        body = response.get_json(silent=True) or {}
        return response.status_code, body.get("status") or body["error"]["code"]

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one_sale, range(8)))

    assert outcomes == [(201, "paid")] * 8
    db.session.rollback()
    assert db.session.scalar(select(func.count(Drawer.id))) == 1
    assert db.session.scalar(select(func.count(DrawerEntry.id))) == 8


def test_a_first_cash_sale_waiting_on_another_desks_new_drawer_uses_it(app):
    """Desk A has opened the drawer (not committed yet); desk B's insert waits on the
    unique index, finds the conflict once A commits, and takes A's drawer."""
    with write_transaction() as session:
        location_id = default_location(session).id
    opened, finish = threading.Event(), threading.Event()
    ids: dict[str, int] = {}
    errors: list[BaseException] = []

    def desk_a() -> None:
        try:
            with app.app_context(), write_transaction() as session:
                ids["a"] = drawers.drawer_for_cash(session, location_id, None)
                opened.set()
                finish.wait(30)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            opened.set()

    def desk_b() -> None:
        try:
            with app.app_context(), write_transaction() as session:
                ids["b"] = drawers.drawer_for_cash(session, location_id, None)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    first = threading.Thread(target=desk_a)
    first.start()
    assert opened.wait(30)
    second = threading.Thread(target=desk_b)
    second.start()
    waiting = _wait_for_a_lock_wait(errors, second)
    assert waiting == 1 and "b" not in ids, errors
    finish.set()
    first.join(30)
    second.join(30)
    assert errors == []
    assert ids["a"] == ids["b"]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Drawer.id))) == 1


def test_closing_waits_for_a_sale_that_found_the_drawer_and_counts_it(app):
    make_item("SERUM", price_cents=6500, lots=[("S-1", 5, 300)])
    drawer = drawers.open_drawer(opening_float_cents=1000, user_id=None)
    found, finish = threading.Event(), threading.Event()
    closed: list[tuple[int, int | None, int | None]] = []
    errors: list[BaseException] = []

    def sale_in_progress() -> None:
        try:
            with app.app_context(), write_transaction() as session:
                location = default_location(session)
                drawer_id = drawers.drawer_for_cash(session, location.id, None)
                found.set()
                finish.wait(30)
                drawers.add_entry(session, drawer_id, "cash_sale", 2500, user_id=None)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
            found.set()

    def close() -> None:
        try:
            with app.app_context():
                view = drawers.close_drawer(drawer.id, counted_cents=3500, note=None,
                                            user_id=None, tolerance_cents=500)
                closed.append((view.figures.cash_sales_cents, view.drawer.expected_cents,
                               view.drawer.over_short_cents))
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    seller = threading.Thread(target=sale_in_progress)
    seller.start()
    assert found.wait(30)
    closer = threading.Thread(target=close)
    closer.start()
    waiting = _wait_for_a_lock_wait(errors, closer)
    assert waiting == 1 and not closed, errors
    finish.set()
    seller.join(30)
    closer.join(30)
    assert errors == []
    assert closed == [(2500, 3500, 0)]

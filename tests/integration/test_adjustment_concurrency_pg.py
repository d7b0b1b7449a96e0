"""50 adjustments of -1 against 10 units, fired at once from two processes of 25 threads.

Exactly 10 succeed and 40 get 409 insufficient_stock; on-hand ends at 0 and the ledger
sums to it; nothing is a 5xx. On PostgreSQL the stock row is locked FOR UPDATE; on SQLite
the write transaction is taken up front with BEGIN IMMEDIATE.
"""
from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import ItemStock, LotStock, StockMovement
from pos.services import staff
from tests.factories import make_item

PROCESSES = 2
THREADS = 25
UNITS = 10
TIMEOUT = 120


def _adjust_from_threads(url: str, token: str, barrier: Any, results: Any) -> None:
    """One process: its own app and connection pool, 25 threads posting at the same moment."""
    from pos import create_app

    app = create_app("test", {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS, "max_overflow": 0,
                                      "hide_parameters": True},
    })
    outcomes: list[tuple[int, str | None, str | None]] = []
    lock = threading.Lock()

    def post() -> None:
        client = app.test_client()
        barrier.wait(timeout=TIMEOUT)
        try:
            response = client.post(
                "/api/v1/stock/adjustments",
                json={"sku": "CART-36", "lot": "C-1", "qty_delta": -1, "reason": "count"},
                headers={"Authorization": f"Bearer {token}"})
            body = response.get_json(silent=True) or {}
            outcome = (response.status_code, (body.get("error") or {}).get("code"),
                       response.headers.get("Retry-After"))
        except Exception as error:  # noqa: BLE001 - reported to the parent as a failure
            outcome = (599, repr(error), None)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=post) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    with app.app_context():
        db.engine.dispose()
    results.put(outcomes)


def _fire(url: str, token: str) -> list[tuple[int, str | None, str | None]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES * THREADS)
    results = ctx.Queue()
    processes = [ctx.Process(target=_adjust_from_threads, args=(url, token, barrier, results))
                 for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    outcomes: list[tuple[int, str | None, str | None]] = []
    try:
        for _ in processes:
            outcomes += results.get(timeout=TIMEOUT)
    finally:
        for process in processes:
            process.join(TIMEOUT)
            if process.is_alive():
                process.terminate()
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    return outcomes


def _ten_units_and_a_manager_token() -> tuple[int, str]:
    item_id = make_item("CART-36", kind="supply", lots=[("C-1", UNITS, 300)]).id
    user = staff.create_user("manager@race.example", "manager", "correct-horse-battery")
    token = staff.create_token(user.email)
    db.session.commit()
    db.session.close()
    return item_id, token


def _assert_exactly_ten_succeeded(item_id: int,
                                  outcomes: list[tuple[int, str | None, str | None]]) -> None:
    db.session.rollback()
    statuses = Counter((status, code) for status, code, _ in outcomes)
    assert len(outcomes) == PROCESSES * THREADS
    assert not [o for o in outcomes if o[0] >= 500], statuses
    assert statuses == {(201, None): UNITS,
                        (409, "insufficient_stock"): PROCESSES * THREADS - UNITS}, statuses
    on_hand = db.session.scalar(select(ItemStock.on_hand).where(ItemStock.item_id == item_id))
    ledger = db.session.scalar(select(func.sum(StockMovement.qty_delta))
                               .where(StockMovement.item_id == item_id))
    lots = db.session.scalar(select(func.sum(LotStock.on_hand)).where(LotStock.item_id == item_id))
    adjustments = db.session.scalar(select(func.count()).select_from(StockMovement)
                                    .where(StockMovement.item_id == item_id,
                                           StockMovement.reason == "count"))
    assert (on_hand, ledger, lots, adjustments) == (0, 0, 0, UNITS)


@pytest.mark.postgres
@pytest.mark.xdist_group("adjustment_concurrency")
def test_fifty_concurrent_adjustments_from_two_processes_on_postgresql(pg_app):
    item_id, token = _ten_units_and_a_manager_token()
    outcomes = _fire(pg_app.config["SQLALCHEMY_DATABASE_URI"], token)
    _assert_exactly_ten_succeeded(item_id, outcomes)


@pytest.mark.xdist_group("adjustment_concurrency")
def test_fifty_concurrent_adjustments_from_two_processes_on_sqlite(sqlite_app):
    item_id, token = _ten_units_and_a_manager_token()
    outcomes = _fire(sqlite_app.config["SQLALCHEMY_DATABASE_URI"], token)
    busy = [o for o in outcomes if o[0] == 503]
    assert all(retry_after for _, _, retry_after in busy), "a 503 must say when to retry"
    _assert_exactly_ten_succeeded(item_id, outcomes)

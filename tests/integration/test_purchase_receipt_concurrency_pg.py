"""Two managers receive the same purchase-order line at once, from two processes of 10
threads each, one unit per request, on a line of 10 units.

Exactly 10 receipts succeed; every other is refused (422 receipt_exceeds_order, or 409
purchase_order_closed once the order is received); the line ends received 10 of 10, the
stock 10 on hand, the ledger summing to it; nothing is a 5xx. Receiving locks the order
row and its line rows FOR UPDATE, so the second manager sees what the first received.
"""
from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import ItemStock, PurchaseOrderLine, StockMovement
from pos.services import clock, purchasing, staff, suppliers
from tests.factories import make_item

PROCESSES = 2
THREADS = 10
UNITS = 10
TIMEOUT = 60


def _receive_from_threads(url: str, token: str, order_id: int, expires_on: str,
                          barrier: Any, results: Any) -> None:
    from pos import create_app

    app = create_app("test", {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS, "max_overflow": 0,
                                      "hide_parameters": True},
    })
    outcomes: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def post() -> None:
        client = app.test_client()
        barrier.wait(timeout=TIMEOUT)
        try:
            response = client.post(
                f"/api/v1/purchase-orders/{order_id}/receipts",
                json={"lines": [{"sku": "CART-36", "quantity": 1, "lot": "C-7",
                                 "expires_on": expires_on}]},
                headers={"Authorization": f"Bearer {token}"})
            body = response.get_json(silent=True) or {}
            outcome = (response.status_code, (body.get("error") or {}).get("code"))
        except Exception as error:  # noqa: BLE001 - reported to the parent as a failure
            outcome = (599, repr(error))
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


@pytest.mark.postgres
@pytest.mark.xdist_group("purchase_receipt_concurrency")
def test_two_managers_receiving_the_same_line_never_over_receive_it(pg_app):
    item_id = make_item("CART-36", kind="supply", reorder_point=0).id
    supplier_id = suppliers.create_supplier(name="Dermapen Supply", email="o@d.example",
                                            lead_time_days=3, minimum_order_cents=None,
                                            user_id=None).id
    order_id = purchasing.create_order(
        supplier_id, [purchasing.OrderLineIn("CART-36", UNITS, 250)], None).id
    tokens = []
    for n in range(PROCESSES):
        user = staff.create_user(f"manager{n}@race.example", "manager", "correct-horse-battery")
        tokens.append(staff.create_token(user.email))
    # Read (and, the first time, seed) the clinic's settings before the others start.
    expires_on = (clock.today() + timedelta(days=400)).isoformat()
    db.session.commit()
    db.session.close()

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES * THREADS)
    results = ctx.Queue()
    url = pg_app.config["SQLALCHEMY_DATABASE_URI"]
    processes = [ctx.Process(target=_receive_from_threads,
                             args=(url, tokens[n], order_id, expires_on, barrier, results))
                 for n in range(PROCESSES)]
    for process in processes:
        process.start()
    outcomes: list[tuple[int, str | None]] = []
    try:
        for _ in processes:
            outcomes += results.get(timeout=TIMEOUT)
    finally:
        for process in processes:
            process.join(TIMEOUT)
            if process.is_alive():
                process.terminate()
    assert [p.exitcode for p in processes] == [0] * PROCESSES

    db.session.rollback()
    statuses = Counter(outcomes)
    assert len(outcomes) == PROCESSES * THREADS
    assert not [o for o in outcomes if o[0] >= 500], statuses
    assert statuses[(201, None)] == UNITS, statuses
    refused = {key for key in statuses if key != (201, None)}
    assert refused <= {(422, "receipt_exceeds_order"), (409, "purchase_order_closed")}, statuses
    received = db.session.scalar(select(PurchaseOrderLine.received)
                                 .where(PurchaseOrderLine.purchase_order_id == order_id))
    on_hand = db.session.scalar(select(ItemStock.on_hand).where(ItemStock.item_id == item_id))
    ledger = db.session.scalar(select(func.sum(StockMovement.qty_delta))
                               .where(StockMovement.item_id == item_id))
    assert (received, on_hand, ledger) == (UNITS, UNITS, UNITS)
    assert purchasing.get_order(db.session, order_id).status == "received"

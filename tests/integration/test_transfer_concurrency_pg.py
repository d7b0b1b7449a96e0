"""On PostgreSQL, real threads: transfers both ways, cash sales and adjustments racing on
the same lot never drive a lot's stock negative, answer no 5xx, and leave every location's
caches equal to its ledger and the chain's total equal to what was received less what left."""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import ItemStock, LotStock, StockMovement
from pos.services import locations, staff
from tests.factories import make_item

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("transfer_concurrency")]

RECEIVED = 20
TIMEOUT = 120


def _request(app: Any, barrier: threading.Barrier, token: str, path: str,
             body: dict[str, Any]) -> tuple[str, int, str | None]:
    client = app.test_client()
    barrier.wait(timeout=TIMEOUT)
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    error = (response.get_json(silent=True) or {}).get("error") or {}
    return path, response.status_code, error.get("code")


def test_transfers_sales_and_adjustments_racing_on_one_lot(pg_app):
    item_id = make_item("CART", price_cents=1200,
                        lots=[("C-1", RECEIVED, 300)]).id
    first = locations.list_locations(db.session)[0].id
    second = locations.create_location("Harbour Street", None).id
    manager = staff.create_token(staff.create_user(
        "manager@race.example", "manager", "correct-horse-battery").email)
    desk = staff.create_token(staff.create_user(
        "desk@race.example", "front_desk", "correct-horse-battery").email)
    db.session.commit()
    db.session.close()

    transfer = "/api/v1/stock/transfers"
    calls = (
        [(manager, transfer, {"sku": "CART", "lot": "C-1", "quantity": 2,
                              "from_location": first, "to_location": second})] * 12
        + [(manager, transfer, {"sku": "CART", "lot": "C-1", "quantity": 1,
                                "from_location": second, "to_location": first})] * 8
        + [(desk, "/api/v1/sales", {"payment": "cash",
                                    "lines": [{"sku": "CART", "quantity": 1}]})] * 8
        + [(manager, f"/api/v1/stock/adjustments?location={second}",
            {"sku": "CART", "lot": "C-1", "qty_delta": -1, "reason": "damaged"})] * 6
    )
    barrier = threading.Barrier(len(calls))
    with ThreadPoolExecutor(len(calls)) as pool:
        outcomes = list(pool.map(lambda call: _request(pg_app, barrier, *call), calls))

    statuses = Counter((path.split("?")[0], status, code) for path, status, code in outcomes)
    assert not [o for o in outcomes if o[1] >= 500], statuses
    assert {(status, code) for _, status, code in outcomes} <= {
        (201, None), (409, "insufficient_stock")}, statuses
    assert any(o[1] == 201 and o[0] == transfer for o in outcomes), statuses

    db.session.rollback()
    sold = sum(1 for path, status, _ in outcomes if path == "/api/v1/sales" and status == 201)
    damaged = sum(1 for path, status, _ in outcomes if "adjustments" in path and status == 201)
    for location_id in (first, second):
        ledger = db.session.scalar(select(func.coalesce(func.sum(StockMovement.qty_delta), 0))
                                   .where(StockMovement.item_id == item_id,
                                          StockMovement.location_id == location_id))
        cached = db.session.scalar(select(ItemStock.on_hand).where(
            ItemStock.item_id == item_id, ItemStock.location_id == location_id))
        lot = db.session.scalar(select(LotStock.on_hand).where(
            LotStock.item_id == item_id, LotStock.location_id == location_id))
        assert ledger == cached == lot >= 0, (location_id, ledger, cached, lot)
    negative = db.session.scalar(select(func.count()).select_from(LotStock)
                                 .where(LotStock.on_hand < 0))
    assert negative == 0
    total = db.session.scalar(select(func.sum(StockMovement.qty_delta))
                              .where(StockMovement.item_id == item_id))
    assert total == RECEIVED - sold - damaged

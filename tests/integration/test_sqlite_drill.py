"""Drill on the SQLite default: 5 processes x 20 cash sales on one real WAL file.

No sale is lost, no stock goes negative, and the only 5xx a till may see is a 503 with
Retry-After ("busy, try again"), never a "database is locked" 500."""
from __future__ import annotations

import multiprocessing
import os

from sqlalchemy import func, select, text

from pos.extensions import db
from pos.models import ItemStock, Sale, StockMovement
from pos.services import staff
from tests.factories import UserPool, make_item

PROCESSES = 5
SALES_EACH = 20
SERUM_STOCK = 90  # ten sales too many: they must be refused, not oversold


def till(args: tuple[str, str, str, int]) -> list[tuple[int, int | None, str | None]]:
    """One front desk in its own process: 20 cash sales, retrying a 503 as told."""
    url, token, instance, number = args
    os.environ["POS_INSTANCE_DIR"] = instance
    from pos import create_app

    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url})
    http = app.test_client()
    results = []
    for n in range(SALES_EACH):
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"till{number}-{n}"}
        while True:
            response = http.post("/api/v1/sales", headers=headers, json={
                "payment": "cash", "lines": [{"sku": "SERUM", "quantity": 1},
                                             {"sku": "MASK", "quantity": 1}]})
            body = response.get_json(silent=True) or {}
            if response.status_code == 503 and response.headers.get("Retry-After"):
                results.append((503, None, None))
                continue
            results.append((response.status_code, body.get("id"),
                            (body.get("error") or {}).get("code")))
            break
    with app.app_context():
        db.engine.dispose()
    return results


def test_five_processes_selling_on_one_sqlite_file_lose_nothing_and_oversell_nothing(
        sqlite_app, tmp_path):
    make_item("SERUM", lots=[("S-1", SERUM_STOCK, 300)])
    make_item("MASK", lots=[("M-1", 500, 300)])
    token = staff.create_token(UserPool().get("front_desk").email)
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    db.session.remove()

    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        per_till = pool.map(till, [(url, token, str(tmp_path), n) for n in range(PROCESSES)])

    outcomes = [r for results in per_till for r in results]
    final = [r for results in per_till for r in results if r[0] != 503]
    assert {status for status, _, _ in outcomes} <= {201, 409, 503}
    assert len(final) == PROCESSES * SALES_EACH
    sold = {sale_id for status, sale_id, _ in final if status == 201}
    refused = [code for status, _, code in final if status == 409]
    assert len(sold) == SERUM_STOCK
    assert refused == ["insufficient_stock"] * (PROCESSES * SALES_EACH - SERUM_STOCK)

    db.session.rollback()
    paid = set(db.session.scalars(select(Sale.id).where(Sale.status == "paid")))
    assert paid == sold
    on_hand = dict(db.session.execute(
        select(StockMovement.item_id, func.sum(StockMovement.qty_delta))
        .group_by(StockMovement.item_id)).all())
    caches = dict(db.session.execute(select(ItemStock.item_id, ItemStock.on_hand)).all())
    assert on_hand == caches
    assert sorted(caches.values()) == [0, 500 - SERUM_STOCK]

"""Drill on PostgreSQL: 500 signed webhook deliveries for 200 card sales, 30 % of them
sent twice, all shuffled, half of them from 8 threads at once. Every paid sale is
fulfilled exactly once, every expired one releases its hold, and the ledger sums."""
from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import ItemStock, LotStock, Sale, StockMovement
from tests.factories import make_item
from tests.fixtures_payments import make_client, stock_of

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("pg_drills")]

PAID_SALES = 150
EXPIRED_SALES = 50
EVENTS = 500
STOCK = 1000


@pytest.fixture
def app(pg_app):  # type: ignore[no-untyped-def]
    return pg_app


def post_event(flask_app, payload: bytes, header: str) -> int:  # type: ignore[no-untyped-def]
    return flask_app.test_client().post(
        "/stripe/webhook", data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"}).status_code


def test_500_shuffled_and_duplicated_webhook_events_fulfil_every_paid_sale_exactly_once(
        stripe_app, api, standin):
    rng = random.Random(500)
    make_item("SERUM", price_cents=6500, lots=[("S-1", STOCK, 300)])
    make_item("MASK", price_cents=1200, lots=[("M-1", STOCK, 300)])
    client_id = make_client(email=None)
    desk = api("front_desk")
    sales = []
    for _ in range(PAID_SALES + EXPIRED_SALES):
        response = desk.post("/api/v1/sales", json={
            "client_id": client_id, "payment": "card",
            "lines": [{"sku": "SERUM", "quantity": 1}, {"sku": "MASK", "quantity": 2}]})
        assert response.status_code == 201, response.get_data(as_text=True)
        sales.append(response.get_json())
    assert stock_of("SERUM") == (STOCK, PAID_SALES + EXPIRED_SALES)
    paid, expired = sales[:PAID_SALES], sales[PAID_SALES:]
    unique = []
    for sale in paid:
        standin.pay(sale["checkout_session_id"])
        for kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            unique.append(standin.event(sale["checkout_session_id"], kind))
    for sale in expired:
        standin.expire_session(sale["checkout_session_id"])
        unique.append(standin.event(sale["checkout_session_id"], "checkout.session.expired"))
    deliveries = unique + rng.sample(unique, EVENTS - len(unique))
    rng.shuffle(deliveries)
    assert len(deliveries) == EVENTS and len(set(deliveries)) == len(unique) == 350
    db.session.remove()

    half = EVENTS // 2
    statuses = [post_event(stripe_app, *d) for d in deliveries[:half]]
    with ThreadPoolExecutor(8) as pool:
        statuses += list(pool.map(lambda d: post_event(stripe_app, *d), deliveries[half:]))

    assert sorted(set(statuses)) == [200]
    db.session.rollback()
    by_id = {s.id: s for s in db.session.scalars(select(Sale))}
    assert {by_id[s["id"]].status for s in paid} == {"paid"}
    assert {by_id[s["id"]].status for s in expired} == {"expired"}
    # Gapless receipt numbers, one per paid sale, none for the expired ones.
    assert sorted(by_id[s["id"]].receipt_number for s in paid) == list(range(1, PAID_SALES + 1))
    assert {by_id[s["id"]].receipt_number for s in expired} == {None}
    moved = dict(db.session.execute(
        select(StockMovement.reference, func.sum(StockMovement.qty_delta))
        .where(StockMovement.reason == "sale").group_by(StockMovement.reference)).all())
    assert moved == {f"sale:{s['id']}": -3 for s in paid}
    assert stock_of("SERUM") == (STOCK - PAID_SALES, 0)
    assert stock_of("MASK") == (STOCK - 2 * PAID_SALES, 0)
    ledger = dict(db.session.execute(select(StockMovement.item_id, func.sum(
        StockMovement.qty_delta)).group_by(StockMovement.item_id)).all())
    caches = dict(db.session.execute(select(ItemStock.item_id, ItemStock.on_hand)).all())
    lots = dict(db.session.execute(select(LotStock.item_id, func.sum(LotStock.on_hand))
                                   .group_by(LotStock.item_id)).all())
    assert ledger == caches == lots

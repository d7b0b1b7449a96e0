"""On PostgreSQL: 50 card sales of the last 10 units, from two processes at once."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pos.extensions import db
from pos.services import staff
from tests.factories import make_item
from tests.fixtures_payments import deliver, stock_of, stripe_config

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("pg_payments")]

SALES_PER_PROCESS = 25


@pytest.fixture
def app(pg_app):  # type: ignore[no-untyped-def]
    return pg_app


def sell_from_a_process(url: str, config: dict[str, Any], token: str) -> list[tuple[int, str]]:
    """Runs in a fresh (spawned) process: its own app, 25 threads, one card sale each."""
    from pos import create_app
    from pos.extensions import db

    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url, **config})

    def one_sale(_: int) -> tuple[int, str]:
        response = app.test_client().post(
            "/api/v1/sales", headers={"Authorization": f"Bearer {token}"},
            json={"payment": "card", "lines": [{"sku": "LAST10", "quantity": 1}]})
        body = response.get_json(silent=True) or {}
        return response.status_code, body.get("status") or body["error"]["code"]

    try:
        with ThreadPoolExecutor(SALES_PER_PROCESS) as pool:
            return list(pool.map(one_sale, range(SALES_PER_PROCESS)))
    finally:
        with app.app_context():
            db.engine.dispose()


def test_fifty_card_sales_of_the_last_ten_units_from_two_processes(
        app, pg_worker_url, users, standin, client, api):
    app.config.update(stripe_config(standin))
    make_item("LAST10", price_cents=2500, lots=[("L-1", 10, 200)])
    token = staff.create_token(users.get("front_desk").email)

    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(2) as pool:
        results = pool.starmap(sell_from_a_process,
                               [(pg_worker_url, stripe_config(standin), token)] * 2)
    outcomes = [outcome for batch in results for outcome in batch]

    assert len(outcomes) == 50
    assert all(status < 500 for status, _ in outcomes), outcomes
    assert outcomes.count((201, "awaiting_payment")) == 10
    assert outcomes.count((409, "insufficient_stock")) == 40
    assert stock_of("LAST10") == (10, 10)
    assert len(standin.sessions) == 10

    # Four clients walk away: their checkouts expire, and exactly 4 units are sellable again.
    for sid in list(standin.sessions)[:4]:
        standin.expire_session(sid)
        assert deliver(client, standin, sid, "checkout.session.expired").status_code == 200
    assert stock_of("LAST10") == (10, 6)
    desk = api("front_desk")
    again = [desk.post("/api/v1/sales", json={
        "payment": "card", "lines": [{"sku": "LAST10", "quantity": 1}]}).status_code
        for _ in range(5)]
    assert again == [201, 201, 201, 201, 409]
    db.session.rollback()

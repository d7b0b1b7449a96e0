"""Refunds: exact amounts, stock back into its lot or written off, package sessions,
card refunds through Stripe (the stand-in), and refusals that write nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from pos.extensions import db
from pos.models import AuditEntry, PackagePurchase, Refund, Sale, StockMovement
from pos.services import clock, reports
from tests.factories import make_item
from tests.fixtures_payments import (
    deliver,
    make_client,
    make_discount,
    make_package,
    row_counts,
    stock_of,
)


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, taxable=True,
              lots=[("S-SOON", 2, 30), ("S-LATE", 5, 300)])
    make_package("FACE3", sessions=3, price_cents=45000)
    return make_client()


def cash_sale(api, client_id, lines):  # type: ignore[no-untyped-def]
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "payment": "cash", "lines": lines})
    assert response.status_code == 201, response.json
    return response.json


def line_of(sale, key):  # type: ignore[no-untyped-def]
    return next(line for line in sale["lines"] if key in (line.get("sku"),
                                                          line.get("package_code")))


def test_refunding_serums_with_restock_puts_them_back_into_the_lots_they_left(api, shop):
    sale = cash_sale(api, shop, [{"sku": "SERUM", "quantity": 3}])  # 2 from S-SOON, 1 S-LATE
    serum = line_of(sale, "SERUM")
    assert stock_of("SERUM") == (4, 0)

    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": serum["id"], "quantity": 2}], "restock": True,
        "reason": "wrong product"})

    assert response.status_code == 201, response.json
    # 3 x 65.00 + 8 % = 210.60; two of three units: floor(19500*2/3) + floor(1560*2/3).
    assert response.json["amount_cents"] == 13000 + 1040
    assert response.json["receipt_number"] == 2
    assert stock_of("SERUM") == (6, 0)
    moves = db.session.scalars(select(StockMovement).where(
        StockMovement.reason == "refund")).all()
    assert sorted((m.lot.code, m.qty_delta) for m in moves) == [("S-LATE", 1), ("S-SOON", 1)]
    assert all(m.reference == f"refund:{response.json['refund_id']}" for m in moves)

    # The last unit gives back exactly what is left of the line, to the cent.
    last = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": serum["id"], "quantity": 1}], "restock": True,
        "reason": "wrong product"})
    assert last.json["amount_cents"] == sale["total_cents"] - response.json["amount_cents"]
    assert stock_of("SERUM") == (7, 0)
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "refund.create"))


def test_a_refund_without_restock_writes_the_units_off(api, shop):
    sale = cash_sale(api, shop, [{"sku": "SERUM", "quantity": 1}])
    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": False,
        "reason": "bottle broken"})
    assert response.status_code == 201
    assert response.json["amount_cents"] == 7020
    assert stock_of("SERUM") == (6, 0)
    assert db.session.scalars(select(StockMovement).where(
        StockMovement.reason == "refund")).all() == []


def test_an_unused_series_is_refunded_and_its_sessions_can_no_longer_be_used(api, shop):
    sale = cash_sale(api, shop, [{"package_code": "FACE3", "quantity": 2}])
    series = line_of(sale, "FACE3")
    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": series["id"], "quantity": 1}], "restock": False,
        "reason": "changed mind"})
    assert response.status_code == 201
    assert response.json["amount_cents"] == 45000
    purchases = db.session.scalars(select(PackagePurchase).order_by(PackagePurchase.id)).all()
    assert [p.sessions_left for p in purchases] == [3, 0]


def test_refunded_package_units_give_back_exactly_their_value_and_leave_no_liability_cent(
        api, shop):
    """4 single sessions with a 2-cent discount: 39,998 split 10,000 10,000 9,999 9,999.
    Refunding two units gives back the value of the two purchases it ends, to the cent,
    so the month's liability equals the value of the sessions still to be performed."""
    make_package("FACE1", sessions=1, price_cents=10000)
    make_discount("TWOCENTS", kind="fixed", value=2)
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": shop, "payment": "cash", "discount_code": "TWOCENTS",
        "lines": [{"package_code": "FACE1", "quantity": 4}]})
    assert response.status_code == 201, response.json
    sale = response.json
    assert sale["total_cents"] == 39998

    refund = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 2}], "restock": False,
        "reason": "moving away"})

    assert refund.status_code == 201, refund.json
    purchases = db.session.scalars(select(PackagePurchase).order_by(PackagePurchase.id)).all()
    ended = [p.value_cents for p in purchases if p.sessions_left == 0]
    still_owed = [p.value_cents for p in purchases if p.sessions_left == 1]
    assert len(ended) == len(still_owed) == 2
    assert refund.json["amount_cents"] == sum(ended)
    today = clock.today()
    report = reports.monthly_report(db.session, today.year, today.month)
    assert report.packages.liability.closing_cents == sum(still_owed)

    last = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 2}], "restock": False,
        "reason": "moving away"})
    assert last.json["amount_cents"] + refund.json["amount_cents"] == 39998
    report = reports.monthly_report(db.session, today.year, today.month)
    assert report.packages.liability.closing_cents == 0


def test_a_series_with_a_session_used_cannot_be_refunded(api, shop):
    sale = cash_sale(api, shop, [{"package_code": "FACE3", "quantity": 1}])
    with db.engine.begin() as conn:
        conn.execute(update(PackagePurchase).values(sessions_used=1))
    before = row_counts()
    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": False,
        "reason": "moving away"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "sessions_already_used"
    assert row_counts() == before


@pytest.mark.parametrize("quantity", [2, 5])
def test_refunding_more_than_was_sold_is_refused_and_writes_nothing(api, shop, quantity):
    sale = cash_sale(api, shop, [{"sku": "SERUM", "quantity": 1}])
    before = row_counts()
    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": quantity}], "restock": True,
        "reason": "x"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "refund_exceeds_sale"
    assert row_counts() == before


def test_refunding_the_same_unit_twice_is_refused(api, shop):
    sale = cash_sale(api, shop, [{"sku": "SERUM", "quantity": 1}])
    body = {"lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
            "reason": "x"}
    assert api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json=body).status_code \
        == 201
    before = row_counts()
    again = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json=body)
    assert again.status_code == 422 and again.json["error"]["code"] == "refund_exceeds_sale"
    assert row_counts() == before


def test_an_unpaid_sale_cannot_be_refunded(api, shop):
    sale = api("front_desk").post("/api/v1/sales", json={
        "payment": "card", "lines": [{"sku": "SERUM", "quantity": 1}]}).json
    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "x"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "refund_exceeds_sale"


@pytest.mark.parametrize("body, field", [
    ({"lines": [], "restock": True, "reason": "x"}, "lines"),
    ({"lines": [{"line_id": "1", "quantity": 1}], "restock": True, "reason": "x"},
     "lines[0].line_id"),
    ({"lines": [{"line_id": 1, "quantity": 0}], "restock": True, "reason": "x"},
     "lines[0].quantity"),
    ({"lines": [{"line_id": 1, "quantity": 1.5}], "restock": True, "reason": "x"},
     "lines[0].quantity"),
    ({"lines": [{"line_id": 1, "quantity": 1}], "restock": "yes", "reason": "x"}, "restock"),
    ({"lines": [{"line_id": 1, "quantity": 1}], "restock": True}, "reason"),
])
def test_malformed_refunds_are_refused(api, shop, body, field):
    sale = cash_sale(api, shop, [{"sku": "SERUM", "quantity": 1}])
    before = row_counts()
    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["details"]["fields"]
    assert row_counts() == before


def test_a_line_of_another_sale_is_refused(api, shop):
    first = cash_sale(api, shop, [{"sku": "SERUM", "quantity": 1}])
    second = cash_sale(api, shop, [{"sku": "SERUM", "quantity": 1}])
    response = api("manager").post(f"/api/v1/sales/{second['id']}/refunds", json={
        "lines": [{"line_id": first["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "x"})
    assert response.status_code == 422


def test_only_a_manager_refunds(api, shop):
    sale = cash_sale(api, shop, [{"sku": "SERUM", "quantity": 1}])
    response = api("front_desk").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "x"})
    assert response.status_code == 403
    assert api("manager").post("/api/v1/sales/987654/refunds", json={
        "lines": [{"line_id": 1, "quantity": 1}], "restock": True,
        "reason": "x"}).status_code == 404


def paid_card_sale(api, client, standin, client_id, lines):  # type: ignore[no-untyped-def]
    sale = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "payment": "card", "lines": lines}).json
    standin.pay(sale["checkout_session_id"])
    assert deliver(client, standin, sale["checkout_session_id"],
                   "checkout.session.completed").json["result"] == "paid"
    return sale


def test_a_card_sale_is_refunded_through_stripe_in_parts(stripe_app, api, shop, standin, client):
    sale = paid_card_sale(api, client, standin, shop, [{"sku": "SERUM", "quantity": 3}])
    line_id = sale["lines"][0]["id"]
    amounts = []
    for quantity in (1, 2):
        response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
            "lines": [{"line_id": line_id, "quantity": quantity}], "restock": True,
            "reason": "allergy"})
        assert response.status_code == 201, response.json
        assert response.json["status"] == "succeeded"
        amounts.append(response.json["amount_cents"])
    assert sum(amounts) == sale["total_cents"]
    sent = standin.requests_to("POST", "/v1/refunds")
    assert [int(r.form["amount"]) for r in sent] == amounts
    refunds = db.session.scalars(select(Refund).order_by(Refund.id)).all()
    assert [r.headers["idempotency-key"] for r in sent] == [f"refund-{r.id}" for r in refunds]
    assert [r.gateway_refund_id for r in refunds] == list(standin.refunds)
    assert [r.receipt_number for r in refunds] == [2, 3]
    assert stock_of("SERUM") == (7, 0)


def test_when_stripe_refuses_the_refund_nothing_is_refunded_and_it_can_be_retried(
        stripe_app, api, shop, standin, client):
    sale = paid_card_sale(api, client, standin, shop, [{"sku": "SERUM", "quantity": 1}])
    body = {"lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
            "reason": "allergy"}
    standin.stop()
    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json=body)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "payment_gateway_unavailable"
    (failed,) = db.session.scalars(select(Refund)).all()
    assert failed.status == "failed" and failed.receipt_number is None
    assert stock_of("SERUM") == (6, 0)

    standin.start()
    retried = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json=body)
    assert retried.status_code == 201
    assert retried.json["amount_cents"] == sale["total_cents"]
    assert stock_of("SERUM") == (7, 0)
    assert len(standin.refunds) == 1
    assert db.session.get(Sale, sale["id"]).lines[0].refunded_quantity == 1

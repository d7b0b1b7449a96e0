"""A paid sale voided the same day (API.md "The front desk's day": `POST
/api/v1/sales/{id}/void` [manager]): the money goes back (cash out of the drawer, a card
through Stripe), the units back on the shelf, unused packages end, and the monthly report
counts the sale neither as sold nor as refunded. Refusals write nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pos.extensions import db
from pos.models import AuditEntry, PackagePurchase, Refund, Sale
from pos.services import clock
from tests.factories import make_item
from tests.fixtures_payments import deliver, make_client, make_package, row_counts, stock_of

SERUM = 7020  # 65.00 + 8 % tax
FIGURES = ("sales_count", "gross_cents", "discount_cents", "tax_cents", "refund_cents",
           "net_cents", "package_liability_cents")


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, taxable=True,
              lots=[("S-SOON", 2, 30), ("S-LATE", 5, 300)])
    make_package("FACE3", sessions=3, price_cents=45000)
    return make_client()


def sell(api, client_id, payment="cash"):  # type: ignore[no-untyped-def]
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "payment": payment,
        "lines": [{"sku": "SERUM", "quantity": 3}, {"package_code": "FACE3", "quantity": 1}]})
    assert response.status_code == 201, response.json
    return response.json


def month_figures(api) -> dict[str, int]:  # type: ignore[no-untyped-def]
    month = clock.today().strftime("%Y-%m")
    report = api("manager").get(f"/api/v1/reports/monthly?month={month}")
    assert report.status_code == 200, report.json
    return {name: report.json[name] for name in FIGURES}


def drawer_expected(api) -> int:  # type: ignore[no-untyped-def]
    return api("front_desk").get("/api/v1/drawers/current").json["expected_cents"]


def test_a_cash_sale_voided_the_same_day_is_undone_everywhere(api, shop):
    api("front_desk").post("/api/v1/drawers", json={"opening_float_cents": 10000})
    before = month_figures(api)
    sale = sell(api, shop)
    assert stock_of("SERUM") == (4, 0)
    assert drawer_expected(api) == 10000 + sale["total_cents"]
    assert month_figures(api)["sales_count"] == 1

    response = api("manager").post(f"/api/v1/sales/{sale['id']}/void",
                                   json={"reason": "rang up the wrong client"})

    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["refund_status"]) == ("void", "full")
    assert stock_of("SERUM") == (7, 0)  # the three units are back on the shelf
    assert drawer_expected(api) == 10000  # the cash went back out of the drawer
    (purchase,) = db.session.scalars(select(PackagePurchase)).all()
    assert purchase.sessions_left == 0  # the series can no longer be redeemed
    (refund,) = db.session.scalars(select(Refund)).all()
    assert (refund.amount_cents, refund.voids_sale, refund.reason) == (
        sale["total_cents"], True, "rang up the wrong client")
    # Neither a sale nor a refund in the month: every figure is as before the sale.
    assert month_figures(api) == before
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "sale.void", AuditEntry.entity_id == str(sale["id"])))
    listed = api("front_desk").get("/api/v1/sales?status=void").json["items"]
    assert [s["id"] for s in listed] == [sale["id"]]


def test_an_earlier_partial_refund_is_not_counted_twice(api, shop):
    kept = api("front_desk").post("/api/v1/sales", json={
        "client_id": shop, "payment": "cash", "lines": [{"sku": "SERUM", "quantity": 1}]}).json
    only_the_kept_sale = month_figures(api)
    sale = sell(api, shop)
    serum = next(line for line in sale["lines"] if line.get("sku") == "SERUM")
    partial = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": serum["id"], "quantity": 1}], "restock": True, "reason": "one"})
    assert partial.status_code == 201

    voided = api("manager").post(f"/api/v1/sales/{sale['id']}/void", json={"reason": "x"})

    assert voided.status_code == 200, voided.json
    refunds = db.session.scalars(select(Refund).order_by(Refund.id)).all()
    assert sum(r.amount_cents for r in refunds) == sale["total_cents"]
    assert stock_of("SERUM") == (6, 0)  # 7 - the kept sale's one
    assert month_figures(api) == only_the_kept_sale
    assert kept["status"] == "paid"


def test_a_card_sale_is_voided_through_stripe(stripe_app, api, shop, standin, client):
    sale = sell(api, shop, payment="card")
    standin.pay(sale["checkout_session_id"])
    assert deliver(client, standin, sale["checkout_session_id"],
                   "checkout.session.completed").json["result"] == "paid"

    response = api("manager").post(f"/api/v1/sales/{sale['id']}/void")

    assert response.status_code == 200, response.json
    assert response.json["status"] == "void"
    (sent,) = standin.requests_to("POST", "/v1/refunds")
    assert int(sent.form["amount"]) == sale["total_cents"]
    (refund,) = db.session.scalars(select(Refund)).all()
    assert refund.gateway_refund_id == next(iter(standin.refunds))
    assert refund.reason == "Voided the same day"
    assert stock_of("SERUM") == (7, 0)


def test_when_stripe_refuses_the_void_the_sale_stays_paid_and_can_be_voided_later(
        stripe_app, api, shop, standin, client):
    sale = sell(api, shop, payment="card")
    standin.pay(sale["checkout_session_id"])
    deliver(client, standin, sale["checkout_session_id"], "checkout.session.completed")
    standin.stop()

    response = api("manager").post(f"/api/v1/sales/{sale['id']}/void", json={"reason": "x"})

    assert response.status_code == 503
    assert response.json["error"]["code"] == "payment_gateway_unavailable"
    db.session.rollback()
    assert db.session.get(Sale, sale["id"]).status == "paid"
    assert stock_of("SERUM") == (4, 0)
    assert month_figures(api)["sales_count"] == 1
    standin.start()
    again = api("manager").post(f"/api/v1/sales/{sale['id']}/void", json={"reason": "x"})
    assert (again.status_code, again.json["status"]) == (200, "void")
    assert len(standin.refunds) == 1


def test_a_sale_paid_yesterday_cannot_be_voided(api, shop):
    sale = sell(api, shop)
    with db.engine.begin() as conn:
        conn.execute(update(Sale).where(Sale.id == sale["id"])
                     .values(paid_at=clock.now() - timedelta(days=1)))
    before = row_counts()

    response = api("manager").post(f"/api/v1/sales/{sale['id']}/void", json={"reason": "x"})

    assert response.status_code == 409
    assert response.json["error"]["code"] == "sale_not_voidable"
    assert "Refund it instead" in response.json["error"]["message"]
    assert row_counts() == before


def test_a_sale_whose_series_was_started_cannot_be_voided(api, shop):
    sale = sell(api, shop)
    with db.engine.begin() as conn:
        conn.execute(update(PackagePurchase).values(sessions_used=1))
    before = row_counts()

    response = api("manager").post(f"/api/v1/sales/{sale['id']}/void", json={"reason": "x"})

    assert response.status_code == 422
    assert response.json["error"]["code"] == "sessions_already_used"
    assert row_counts() == before
    assert db.session.get(Sale, sale["id"]).status == "paid"


def test_only_a_manager_voids_and_only_once(api, shop):
    sale = sell(api, shop)
    assert api("front_desk").post(f"/api/v1/sales/{sale['id']}/void").status_code == 403
    assert api("manager").post(f"/api/v1/sales/{sale['id']}/void").status_code == 200
    again = api("manager").post(f"/api/v1/sales/{sale['id']}/void")
    assert (again.status_code, again.json["error"]["code"]) == (409, "sale_not_voidable")
    assert len(db.session.scalars(select(Refund)).all()) == 1
    bad = api("manager").post(f"/api/v1/sales/{sale['id']}/void", json={"reason": 5})
    assert bad.status_code == 422


def test_a_fully_refunded_sale_voided_leaves_the_report_and_moves_nothing(api, shop):
    sale = api("front_desk").post("/api/v1/sales", json={
        "client_id": shop, "payment": "cash", "lines": [{"sku": "SERUM", "quantity": 1}]}).json
    api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "allergy"})
    figures = month_figures(api)
    assert figures["refund_cents"] == 6500

    response = api("manager").post(f"/api/v1/sales/{sale['id']}/void")

    assert response.json["status"] == "void"
    assert len(db.session.scalars(select(Refund)).all()) == 1
    assert stock_of("SERUM") == (7, 0)
    after = month_figures(api)
    assert (after["sales_count"], after["gross_cents"], after["refund_cents"]) == (0, 0, 0)


# -- the sale page's twin ------------------------------------------------------------------

def test_a_manager_voids_a_paid_sale_from_its_page(app, client, login_as, api, shop):
    sale = sell(api, shop)
    app.config["WTF_CSRF_ENABLED"] = False
    login_as("front_desk")
    assert "Void this sale" not in client.get(f"/sales/{sale['id']}").get_data(as_text=True)
    assert client.post(f"/sales/{sale['id']}/void", data={"void-reason": "x"}).status_code \
        == 403

    login_as("manager")
    page = client.get(f"/sales/{sale['id']}").get_data(as_text=True)
    assert "Void this sale" in page and "out of the drawer" in page
    empty = client.post(f"/sales/{sale['id']}/void", data={"void-reason": " "})
    assert empty.status_code == 422
    assert "Say why the sale is voided." in empty.get_data(as_text=True)
    assert stock_of("SERUM") == (4, 0)

    done = client.post(f"/sales/{sale['id']}/void", data={"void-reason": "wrong client"},
                       follow_redirects=True)

    body = done.get_data(as_text=True)
    assert f"Sale #{sale['id']} was voided" in body
    assert "Voided the same day" in body and "Void this sale" not in body
    assert stock_of("SERUM") == (7, 0)


def test_the_void_form_is_not_offered_for_a_sale_of_another_day(app, client, login_as, api,
                                                                shop):
    sale = sell(api, shop)
    with db.engine.begin() as conn:
        conn.execute(update(Sale).where(Sale.id == sale["id"])
                     .values(paid_at=clock.now() - timedelta(days=2)))
    login_as("manager")
    page = client.get(f"/sales/{sale['id']}").get_data(as_text=True)
    assert "Void this sale" not in page and "Refund" in page

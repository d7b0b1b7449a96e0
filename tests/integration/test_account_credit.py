"""Account credit: a refund to credit raises the client's credit and moves no money (no
drawer entry, nothing to Stripe); the ledger spent directly; the month's credit figures."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pos.domain.credit import CreditTooLow
from pos.extensions import db
from pos.models import ClientCreditEntry, DrawerEntry, Refund
from pos.services import clock, credit, reports
from pos.services.transaction import write_transaction
from tests.factories import make_item
from tests.fixtures_payments import deliver, make_client, make_package, row_counts


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, taxable=True,
              lots=[("S-LATE", 5, 300)])
    make_package("FACE3", sessions=3, price_cents=45000)
    return make_client()


def drawer_entries() -> int:
    return db.session.scalar(select(func.count(DrawerEntry.id)))


def cash_sale(api, lines, client_id=None):  # type: ignore[no-untyped-def]
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "payment": "cash", "lines": lines})
    assert response.status_code == 201, response.json
    return response.json


def test_a_cash_refund_to_credit_raises_the_credit_and_leaves_the_drawer_alone(api, shop):
    sale = cash_sale(api, [{"sku": "SERUM", "quantity": 1}], shop)
    entries_before = drawer_entries()

    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "changed her mind", "refund_to": "credit"})

    assert response.status_code == 201, response.json
    assert response.json["amount_cents"] == 7020
    assert response.json["refund_to"] == "credit"
    assert response.json["status"] == "succeeded"
    assert drawer_entries() == entries_before
    client = api("front_desk").get(f"/api/v1/clients/{shop}").json
    assert client["credit_cents"] == 7020
    history = api("front_desk").get(f"/api/v1/clients/{shop}/credit").json
    assert history["credit_cents"] == 7020
    (entry,) = history["entries"]
    assert (entry["amount_cents"], entry["balance_after_cents"], entry["sale_id"]) == (
        7020, 7020, sale["id"])


def test_a_card_refund_to_credit_sends_nothing_to_stripe(stripe_app, api, shop, standin,
                                                         client):
    sale = api("front_desk").post("/api/v1/sales", json={
        "client_id": shop, "payment": "card",
        "lines": [{"package_code": "FACE3", "quantity": 1}]}).json
    standin.pay(sale["checkout_session_id"])
    assert deliver(client, standin, sale["checkout_session_id"],
                   "checkout.session.completed").json["result"] == "paid"
    refunds_before = len(standin.requests_to("POST", "/v1/refunds"))

    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "sessions": 2}], "restock": False,
        "reason": "moving away", "refund_to": "credit"})

    assert response.status_code == 201, response.json
    assert response.json["amount_cents"] == 30000
    assert len(standin.requests_to("POST", "/v1/refunds")) == refunds_before
    refund = db.session.get(Refund, response.json["refund_id"])
    assert refund.to_credit and refund.gateway_refund_id is None
    assert api("front_desk").get(f"/api/v1/clients/{shop}").json["credit_cents"] == 30000


def test_a_sale_without_a_client_cannot_be_refunded_to_credit(api, shop):
    sale = cash_sale(api, [{"sku": "SERUM", "quantity": 1}])
    before = row_counts()
    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "x", "refund_to": "credit"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "client_required"
    assert row_counts() == before


def test_an_unknown_refund_destination_is_refused(api, shop):
    sale = cash_sale(api, [{"sku": "SERUM", "quantity": 1}], shop)
    response = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "x", "refund_to": "gift_card"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


def test_spending_credit_lowers_the_balance_and_more_than_it_is_refused(app, shop):
    with write_transaction() as session:
        assert credit.issue_credit(session, shop, 5000, reason="a refund") == 5000
    with write_transaction() as session:
        assert credit.spend_credit(session, shop, 1200, None) == 3800
    with pytest.raises(CreditTooLow) as refused, write_transaction() as session:
        credit.spend_credit(session, shop, 3801, None)
    assert refused.value.code == "credit_too_low" and refused.value.status == 422
    assert refused.value.details == {"credit_cents": 3800, "amount_cents": 3801}
    assert credit.balance(db.session, shop) == 3800
    assert db.session.scalar(select(func.count(ClientCreditEntry.id))) == 2


def test_the_month_reports_credit_issued_spent_and_still_held(app, api, shop):
    with write_transaction() as session:
        credit.issue_credit(session, shop, 5000, reason="a refund")
        credit.spend_credit(session, shop, 1200, None)
    today = clock.today()
    report = reports.monthly_report(db.session, today.year, today.month)
    assert (report.credit.issued_cents, report.credit.spent_cents,
            report.credit.liability_cents) == (5000, 1200, 3800)
    body = api("manager").get(
        f"/api/v1/reports/monthly?month={today.year:04d}-{today.month:02d}").json
    assert body["account_credit_issued_cents"] == 5000
    assert body["account_credit_spent_cents"] == 1200
    assert body["account_credit_liability_cents"] == 3800


def test_the_report_page_and_csv_show_the_months_credit(app, client, login_as, shop):
    with write_transaction() as session:
        credit.issue_credit(session, shop, 5000, reason="a refund")
        credit.spend_credit(session, shop, 1200, None)
    login_as("manager")
    today = clock.today()
    month = f"{today.year:04d}-{today.month:02d}"
    page = client.get(f"/reports/monthly?month={month}").get_data(as_text=True)
    assert 'data-credit="issued">$50.00<' in page
    assert 'data-credit="spent">$12.00<' in page
    assert 'data-credit="liability">$38.00<' in page
    csv_text = client.get(f"/reports/monthly.csv?month={month}").get_data(as_text=True)
    assert "Account credit,Amount" in csv_text
    assert "Issued,50.00" in csv_text and "Spent,12.00" in csv_text


def test_the_receipt_says_the_refund_went_to_account_credit(app, api, client, login_as, shop):
    sale = cash_sale(api, [{"sku": "SERUM", "quantity": 1}], shop)
    api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "allergy", "refund_to": "credit"})
    login_as("front_desk")
    page = client.get(f"/sales/{sale['id']}/receipt").get_data(as_text=True)
    assert "(allergy, to account credit)" in page

"""The transactions list (GET /api/v1/sales), what every sale carries (refund status,
cashier, tenders), cancelling an unpaid card sale, and sending a receipt again."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pos.extensions import db
from pos.models import AuditEntry, OutboxMessage, Refund, Sale
from pos.notify.outbox import deliver_pending
from pos.services import clock
from tests.factories import make_item
from tests.fixtures_payments import deliver, make_client, make_package, stock_of


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, taxable=True,
              lots=[("S-1", 40, 200)])
    make_package("FACE3", sessions=3, price_cents=45000)
    return {"ana": make_client("Ana", "Lopez", "ana.lopez@example.org"),
            "bea": make_client("Bea", "Moreno", "bea.moreno@example.org")}


def cash_sale(api, client_id=None, quantity=1, role="front_desk", package=False):  # type: ignore[no-untyped-def]
    lines = [{"sku": "SERUM", "quantity": quantity}]
    if package:
        lines.append({"package_code": "FACE3", "quantity": 1})
    response = api(role).post("/api/v1/sales", json={
        "client_id": client_id, "payment": "cash", "lines": lines})
    assert response.status_code == 201, response.json
    return response.json


def card_sale(api, client_id=None, quantity=1):  # type: ignore[no-untyped-def]
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "payment": "card",
        "lines": [{"sku": "SERUM", "quantity": quantity}]})
    assert response.status_code == 201, response.json
    return response.json


def listed(api, query=""):  # type: ignore[no-untyped-def]
    response = api("front_desk").get(f"/api/v1/sales{query}")
    assert response.status_code == 200, response.json
    return response.json


def ids(page) -> list[int]:  # type: ignore[no-untyped-def]
    return [sale["id"] for sale in page["items"]]


def created_days_ago(sale_id: int, days: int) -> None:
    db.session.execute(update(Sale).where(Sale.id == sale_id).values(
        created_at=clock.now() - timedelta(days=days)))
    db.session.commit()


# -- the list ------------------------------------------------------------------------------

def test_the_list_is_newest_first_and_paginated(api, shop):
    made = [cash_sale(api, shop["ana"])["id"] for _ in range(5)]

    first = listed(api, "?per_page=2")
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 5)
    assert ids(first) == [made[4], made[3]]
    second = listed(api, "?per_page=2&page=2")
    assert ids(second) == [made[2], made[1]]
    assert ids(listed(api, "?per_page=2&page=3")) == [made[0]]
    assert listed(api)["per_page"] == 50
    too_many = api("front_desk").get("/api/v1/sales?per_page=201")
    assert too_many.status_code == 422
    assert too_many.json["error"]["details"]["fields"] == {"per_page": too_many.json[
        "error"]["details"]["fields"]["per_page"]}


def test_the_list_filters_by_status_method_cashier_client_and_days(api, shop, users):
    by_desk = cash_sale(api, shop["ana"])["id"]
    by_manager = cash_sale(api, shop["bea"], role="manager")["id"]
    awaiting = card_sale(api, shop["bea"])["id"]
    old = cash_sale(api, shop["ana"])["id"]
    created_days_ago(old, 10)
    today = clock.today()

    assert ids(listed(api, "?status=awaiting_payment")) == [awaiting]
    assert set(ids(listed(api, "?status=paid"))) == {by_desk, by_manager, old}
    assert ids(listed(api, "?method=card")) == [awaiting]
    assert set(ids(listed(api, "?method=cash"))) == {by_desk, by_manager, old}
    manager_id = users.get("manager").id
    assert ids(listed(api, f"?cashier_id={manager_id}")) == [by_manager]
    assert set(ids(listed(api, f"?client_id={shop['bea']}"))) == {by_manager, awaiting}
    assert set(ids(listed(api, f"?from={today.isoformat()}"))) == {by_desk, by_manager,
                                                                     awaiting}
    ten_days_ago = (today - timedelta(days=10)).isoformat()
    assert ids(listed(api, f"?from={ten_days_ago}&to={ten_days_ago}")) == [old]
    assert ids(listed(api, f"?to={(today - timedelta(days=1)).isoformat()}")) == [old]
    assert api("front_desk").get("/api/v1/sales?status=lost").status_code == 422
    assert api("front_desk").get("/api/v1/sales?from=2026-02-30").status_code == 422


def test_q_finds_a_sale_by_receipt_number_or_by_the_clients_name(api, shop):
    ana_sale = cash_sale(api, shop["ana"])
    bea_sale = cash_sale(api, shop["bea"])
    cash_sale(api, None)

    assert ids(listed(api, f"?q={bea_sale['receipt_number']}")) == [bea_sale["id"]]
    assert ids(listed(api, f"?q=%23{ana_sale['receipt_number']}")) == [ana_sale["id"]]
    assert ids(listed(api, "?q=lopez")) == [ana_sale["id"]]
    assert ids(listed(api, "?q=Bea+Mor")) == [bea_sale["id"]]
    assert listed(api, "?q=nobody")["total"] == 0
    assert listed(api, "?q=%25")["total"] == 0  # a LIKE wildcard is a character


def test_every_sale_carries_its_cashier_its_tenders_and_its_refund_status(api, shop, users):
    posted = cash_sale(api, shop["ana"], quantity=2)
    desk = users.get("front_desk")
    assert posted["refund_status"] == "none"
    assert posted["cashier"] == {"id": desk.id, "name": desk.name}
    (tender,) = posted["payments"]
    assert (tender["method"], tender["amount_cents"], tender["status"],
            tender["tip_cents"]) == ("cash", posted["total_cents"], "succeeded", 0)
    line_id = posted["lines"][0]["id"]

    def refund(quantity: int) -> None:
        response = api("manager").post(f"/api/v1/sales/{posted['id']}/refunds", json={
            "lines": [{"line_id": line_id, "quantity": quantity}], "restock": True,
            "reason": "changed her mind"})
        assert response.status_code == 201, response.json

    refund(1)
    one = api("front_desk").get(f"/api/v1/sales/{posted['id']}").json
    assert one["refund_status"] == "partial"
    assert one["cashier"] == {"id": desk.id, "name": desk.name}
    assert listed(api)["items"][0]["refund_status"] == "partial"
    refund(1)
    assert api("front_desk").get(f"/api/v1/sales/{posted['id']}").json[
        "refund_status"] == "full"
    assert listed(api)["items"][0]["refund_status"] == "full"


def test_a_paid_card_sale_lists_the_card_brand_and_last4(api, shop, stripe_app, standin,
                                                         client):
    sale = card_sale(api, shop["ana"])
    standin.pay(sale["checkout_session_id"])
    deliver(client, standin, sale["checkout_session_id"], "checkout.session.completed")
    (tender,) = listed(api, "?method=card")["items"][0]["payments"]
    assert (tender["method"], tender["status"], tender["card_brand"], tender["last4"]) == (
        "card", "succeeded", "visa", "4242")


# -- cancel --------------------------------------------------------------------------------

def test_cancelling_an_unpaid_card_sale_expires_its_checkout_and_releases_its_hold(
        api, shop, stripe_app, standin):
    sale = card_sale(api, shop["ana"], quantity=3)
    assert stock_of("SERUM") == (40, 3)

    response = api("front_desk").post(f"/api/v1/sales/{sale['id']}/cancel")

    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled"
    assert response.json["payments"][0]["status"] == "cancelled"
    assert stock_of("SERUM") == (40, 0)
    session_id = sale["checkout_session_id"]
    assert len(standin.requests_to("POST", f"/v1/checkout/sessions/{session_id}/expire")) == 1
    assert standin.sessions[session_id]["status"] == "expired"
    item = api("front_desk").get("/api/v1/items/SERUM").json
    assert item["available"] == 40
    # Again (a double click): the same answer, nothing more released.
    again = api("front_desk").post(f"/api/v1/sales/{sale['id']}/cancel")
    assert again.status_code == 200 and again.json["status"] == "cancelled"
    assert stock_of("SERUM") == (40, 0)
    assert listed(api, "?status=cancelled")["items"][0]["id"] == sale["id"]


def test_a_paid_sale_cannot_be_cancelled(api, shop):
    paid = cash_sale(api, shop["ana"])
    response = api("front_desk").post(f"/api/v1/sales/{paid['id']}/cancel")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "sale_already_paid"
    assert api("front_desk").post("/api/v1/sales/999999/cancel").status_code == 404


def test_a_sale_paid_at_stripe_a_moment_before_the_cancel_is_paid_not_cancelled(
        api, shop, stripe_app, standin):
    sale = card_sale(api, shop["ana"])
    standin.pay(sale["checkout_session_id"])  # its webhook has not arrived yet

    response = api("front_desk").post(f"/api/v1/sales/{sale['id']}/cancel")

    assert response.status_code == 409
    assert response.json["error"]["code"] == "sale_already_paid"
    assert api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["status"] == "paid"
    assert stock_of("SERUM") == (39, 0)


def test_a_payment_landing_on_a_cancelled_sale_is_flagged_and_refunded_not_accepted(
        api, shop, stripe_app, standin, client):
    sale = card_sale(api, shop["ana"])
    session_id = sale["checkout_session_id"]
    # The client paid, but Stripe's expiry answer was lost: the desk cancelled anyway.
    standin.pay(session_id)
    db.session.execute(update(Sale).where(Sale.id == sale["id"]).values(status="cancelled"))
    db.session.commit()

    result = deliver(client, standin, session_id, "checkout.session.completed").json
    assert result["result"] == "refunded"
    after = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert after["status"] == "cancelled"
    assert "paid after sale was cancelled" in after["flag"]
    (refund,) = db.session.scalars(select(Refund).where(Refund.sale_id == sale["id"]))
    assert refund.amount_cents == sale["total_cents"]


def test_cancel_needs_a_token_and_is_audited(api, shop, stripe_app, standin, client):
    sale = card_sale(api, shop["ana"])
    assert client.post(f"/api/v1/sales/{sale['id']}/cancel").status_code == 401
    api("front_desk").post(f"/api/v1/sales/{sale['id']}/cancel")
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_id == str(sale["id"]))).all()
    assert "sale.cancel" in actions


# -- receipt by email ----------------------------------------------------------------------

def test_the_receipt_is_sent_again_to_the_clients_address_only(mail_app, smtp_server, api,
                                                                shop):
    sale = cash_sale(api, shop["ana"], package=True)
    deliver_pending()  # the receipt of the sale itself
    smtp_server.messages.clear()
    smtp_server.envelopes.clear()

    response = api("front_desk").post(f"/api/v1/sales/{sale['id']}/receipt-email")

    assert response.status_code == 202, response.json
    assert response.json["to"] == "ana.lopez@example.org"
    assert deliver_pending().delivered == 1
    assert smtp_server.wait_for(1)
    ((_sender, recipients),) = smtp_server.envelopes
    assert recipients == ["ana.lopez@example.org"]
    body = smtp_server.body(0)
    assert f"Receipt #{sale['receipt_number']}" in body
    assert "Client: Ana Lopez" in body
    assert "sessions left: 3" in body
    assert "Cash" in body


def test_a_receipt_cannot_be_emailed_without_the_clients_address(api, shop):
    nobody = make_client("Cy", "Walker", None)
    no_email = cash_sale(api, nobody)
    anonymous = cash_sale(api, None)
    for sale in (no_email, anonymous):
        response = api("front_desk").post(f"/api/v1/sales/{sale['id']}/receipt-email")
        assert response.status_code == 422
        assert response.json["error"]["code"] == "client_has_no_email"
    assert db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.dedupe_key.like("receipt:sale:%:again:%"))).all() == []


def test_an_unpaid_sale_has_no_receipt_to_email(api, shop, stripe_app, standin):
    sale = card_sale(api, shop["ana"])
    response = api("front_desk").post(f"/api/v1/sales/{sale['id']}/receipt-email")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "sale_not_paid"

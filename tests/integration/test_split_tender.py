"""Split tender (issue 14, parts 1, 3, 4): a sale paid by several tenders, cash with its
own change and tip, an external card machine, a card tender through Stripe Checkout (the
real SDK against the stand-in); a failed card tender leaves the others; abandoning gives
the cash back to the drawer."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from pos.domain.money import format_cents
from pos.extensions import db
from pos.models import OutboxMessage, Payment
from tests.factories import make_item
from tests.fixtures_payments import deliver, make_client, make_package, row_counts, stock_of

SERUM, SERUM_TAX, FACE3 = 6500, 520, 45000
TOTAL = FACE3 + SERUM + SERUM_TAX  # 52020


@pytest.fixture
def shop(stripe_app, api):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=SERUM, taxable=True,
              lots=[("S-1", 3, 200)])
    make_package("FACE3", sessions=3, price_cents=FACE3)
    client_id = make_client("Zoe", "Quintero", "zoe.quintero@example.org")
    opened = api("front_desk").post("/api/v1/drawers", json={"opening_float_cents": 10000})
    assert opened.status_code == 201, opened.json
    return client_id


LINES = [{"package_code": "FACE3", "quantity": 1}, {"sku": "SERUM", "quantity": 1}]


def split_sale(api, client_id, payments, status=201):  # type: ignore[no-untyped-def]
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "lines": LINES, "payments": payments})
    assert response.status_code == status, response.json
    return response.json


def drawer(api):  # type: ignore[no-untyped-def]
    return api("front_desk").get("/api/v1/drawers/current").json


def test_fifty_dollars_cash_and_the_rest_on_the_external_card_machine_pays_at_once(
        api, shop, users):
    provider = users.get("provider")
    sale = split_sale(api, shop, [
        {"method": "cash", "amount_cents": 5000, "cash_tendered_cents": 6000,
         "tip_cents": 500, "tip_provider_id": provider.id},
        {"method": "external_card", "amount_cents": TOTAL - 5000, "last4": "1234",
         "auth_code": "A1B2C3"}])

    assert (sale["status"], sale["payment_method"], sale["total_cents"]) == \
        ("paid", "split", TOTAL)
    assert sale["receipt_number"] == 1 and sale["balance_cents"] == 0
    cash, card = sale["payments"]
    assert (cash["method"], cash["amount_cents"], cash["status"]) == ("cash", 5000, "succeeded")
    # The change is the cash tender's only: 60.00 handed over for 50.00 and a 5.00 tip.
    assert (cash["cash_tendered_cents"], cash["change_cents"], cash["tip_cents"]) == \
        (6000, 500, 500)
    assert cash["tip_provider_id"] == provider.id
    assert (card["method"], card["amount_cents"], card["status"], card["last4"]) == \
        ("external_card", TOTAL - 5000, "succeeded", "1234")
    assert stock_of("SERUM") == (2, 0)
    # The cash and its tip are in the drawer; the external card is not.
    figures = drawer(api)
    assert figures["cash_sales_cents"] == 5500
    assert figures["expected_cents"] == 10000 + 5500
    assert db.session.scalar(select(Payment.auth_code).where(
        Payment.method == "external_card")) == "A1B2C3"
    mail = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.topic == "receipt"))
    assert "Paid by: Cash  $50.00" in mail
    assert f"Paid by: External card ending 1234  {format_cents(TOTAL - 5000)}" in mail


def test_the_receipt_lists_only_the_tenders_that_paid(api, shop, standin, client, login_as):
    sale = split_sale(api, shop, [{"method": "cash", "amount_cents": 5000},
                                  {"method": "card", "amount_cents": TOTAL - 5000}])
    deliver(client, standin, sale["checkout_session_id"], "checkout.session.async_payment_failed")
    api("front_desk").post(f"/api/v1/sales/{sale['id']}/payments", json={
        "method": "external_card", "amount_cents": TOTAL - 5000, "last4": "4242",
        "auth_code": "OK1"})
    login_as("front_desk")
    page = client.get(f"/sales/{sale['id']}/receipt").get_data(as_text=True)
    assert page.count('class="receipt-tender"') == 2
    assert "External card ending 4242" in page and "Visa" not in page


def test_fifty_dollars_cash_and_the_rest_by_card_through_stripe(api, shop, standin, client):
    sale = split_sale(api, shop, [{"method": "cash", "amount_cents": 5000},
                                  {"method": "card", "amount_cents": TOTAL - 5000}])
    assert (sale["status"], sale["balance_cents"]) == ("awaiting_payment", 0)
    assert [p["status"] for p in sale["payments"]] == ["succeeded", "pending"]
    assert stock_of("SERUM") == (3, 1)  # held until the card pays
    (sent,) = standin.requests_to("POST", "/v1/checkout/sessions")
    amounts = [int(item["price_data"]["unit_amount"]) * int(item["quantity"])
               for item in sent.params["line_items"]]
    assert sum(amounts) == TOTAL - 5000
    session_id = sale["checkout_session_id"]
    standin.pay(session_id)
    for _ in range(2):
        assert deliver(client, standin, session_id, "checkout.session.completed"
                       ).status_code == 200

    paid = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert (paid["status"], paid["receipt_number"]) == ("paid", 1)
    assert [p["status"] for p in paid["payments"]] == ["succeeded", "succeeded"]
    assert stock_of("SERUM") == (2, 0)
    assert drawer(api)["cash_sales_cents"] == 5000


def test_payments_that_do_not_add_up_to_the_total_are_refused_and_nothing_is_written(
        api, shop):
    before = row_counts()
    refused = split_sale(api, shop, [{"method": "cash", "amount_cents": 5000},
                                     {"method": "external_card", "amount_cents": 100,
                                      "last4": "1234", "auth_code": "X9"}], status=422)
    assert refused["error"]["code"] == "payments_do_not_cover_total"
    assert refused["error"]["details"] == {"total_cents": TOTAL, "payments_cents": 5100}
    both = api("front_desk").post("/api/v1/sales", json={
        "client_id": shop, "lines": LINES, "payment": "cash",
        "payments": [{"method": "cash", "amount_cents": TOTAL}]})
    assert (both.status_code, both.json["error"]["code"]) == (422, "validation_error")
    no_auth = split_sale(api, shop, [{"method": "external_card", "amount_cents": TOTAL,
                                      "last4": "12a4", "auth_code": "X9"}], status=422)
    assert no_auth["error"]["code"] == "validation_error"
    assert row_counts() == before
    assert drawer(api)["cash_sales_cents"] == 0


def test_a_failed_card_tender_leaves_the_cash_and_another_tender_completes_the_sale(
        api, shop, standin, client):
    sale = split_sale(api, shop, [{"method": "cash", "amount_cents": 5000},
                                  {"method": "card", "amount_cents": TOTAL - 5000}])
    result = deliver(client, standin, sale["checkout_session_id"],
                     "checkout.session.async_payment_failed")
    assert result.status_code == 200

    after = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert after["status"] == "awaiting_payment"
    assert [p["status"] for p in after["payments"]] == ["succeeded", "failed"]
    assert after["balance_cents"] == TOTAL - 5000
    assert stock_of("SERUM") == (3, 1)  # still held for the client

    desk = api("front_desk")
    too_much = desk.post(f"/api/v1/sales/{sale['id']}/payments", json={
        "method": "cash", "amount_cents": TOTAL})
    assert (too_much.status_code, too_much.json["error"]["code"]) == \
        (422, "payment_exceeds_balance")
    assert too_much.json["error"]["details"]["balance_cents"] == TOTAL - 5000
    done = desk.post(f"/api/v1/sales/{sale['id']}/payments", json={
        "method": "external_card", "amount_cents": TOTAL - 5000, "last4": "4242",
        "auth_code": "OK123"})
    assert done.status_code == 201, done.json
    assert (done.json["status"], done.json["balance_cents"]) == ("paid", 0)
    assert [p["status"] for p in done.json["payments"]] == ["succeeded", "failed", "succeeded"]
    assert stock_of("SERUM") == (2, 0)
    again = desk.post(f"/api/v1/sales/{sale['id']}/payments", json={
        "method": "cash", "amount_cents": 1})
    assert (again.status_code, again.json["error"]["code"]) == (409, "sale_not_awaiting_payment")


def test_abandoning_a_sale_gives_the_cash_already_taken_back_to_the_drawer(
        api, shop, standin):
    sale = split_sale(api, shop, [{"method": "cash", "amount_cents": 5000},
                                  {"method": "card", "amount_cents": TOTAL - 5000}])
    assert drawer(api)["expected_cents"] == 15000

    cancelled = api("front_desk").post(f"/api/v1/sales/{sale['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled"
    assert [p["status"] for p in cancelled.json["payments"]] == ["refunded", "cancelled"]
    figures = drawer(api)
    assert (figures["cash_sales_cents"], figures["cash_refunds_cents"]) == (5000, 5000)
    assert figures["expected_cents"] == 10000
    assert stock_of("SERUM") == (3, 0)


def test_one_cash_payment_is_still_the_v1_cash_sale(api, shop):
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": shop, "lines": LINES, "payment": "cash", "cash_tendered_cents": 60000})
    assert response.status_code == 201
    sale = response.json
    assert (sale["status"], sale["payment_method"], sale["change_cents"]) == \
        ("paid", "cash", 60000 - TOTAL)
    assert sale["balance_cents"] == 0 and len(sale["payments"]) == 1


def test_tips_are_in_the_report_by_staff_and_not_in_revenue_nor_tax(api, shop, users,
                                                                     login_as, client):
    from pos.services import clock

    provider = users.get("provider")
    split_sale(api, shop, [
        {"method": "cash", "amount_cents": 5000, "tip_cents": 700,
         "tip_provider_id": provider.id},
        {"method": "external_card", "amount_cents": TOTAL - 5000, "last4": "1234",
         "auth_code": "A1"}])
    api("front_desk").post("/api/v1/sales", json={  # a v1 cash sale: one tender, no tip
        "lines": [{"sku": "SERUM", "quantity": 1}], "payment": "cash"})
    month = clock.today().strftime("%Y-%m")
    report = api("manager").get(f"/api/v1/reports/monthly?month={month}").json

    assert report["tips"] == [{"provider_id": provider.id, "name": provider.name,
                               "tip_cents": 700}]
    assert report["tips_total_cents"] == 700
    # Revenue and tax are the sales' own: the tip is in neither.
    assert report["gross_cents"] == FACE3 + 2 * SERUM
    assert report["tax_cents"] == 2 * SERUM_TAX
    tenders = {row["method"]: (row["amount_cents"], row["count"]) for row in report["tenders"]}
    assert tenders == {"cash": (5000 + SERUM + SERUM_TAX, 2),
                       "external_card": (TOTAL - 5000, 1)}
    methods = {row["payment_method"]: row["gross_cents"] for row in report["by_payment_method"]}
    assert methods["split"] == FACE3 + SERUM and methods["cash"] == SERUM

    login_as("manager")
    page = client.get(f"/reports/monthly?month={month}").get_data(as_text=True)
    assert "Tips by staff" in page and provider.name in page and "$7.00" in page
    csv_text = client.get(f"/reports/monthly.csv?month={month}").get_data(as_text=True)
    assert f"{provider.name},7.00" in csv_text


def test_a_split_sale_is_refunded_card_first_then_cash_from_the_drawer(
        api, shop, standin, client):
    sale = split_sale(api, shop, [{"method": "cash", "amount_cents": 5000},
                                  {"method": "card", "amount_cents": TOTAL - 5000}])
    standin.pay(sale["checkout_session_id"])
    deliver(client, standin, sale["checkout_session_id"], "checkout.session.completed")
    package, serum = (line["id"] for line in
                      api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["lines"])
    boss = api("manager")

    first = boss.post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": serum, "quantity": 1}], "restock": True, "reason": "allergy"})
    assert first.status_code == 201, first.json
    assert (first.json["amount_cents"], first.json["status"]) == (SERUM + SERUM_TAX, "succeeded")
    (sent,) = standin.requests_to("POST", "/v1/refunds")
    assert int(sent.form["amount"]) == SERUM + SERUM_TAX  # all on the card
    assert drawer(api)["cash_refunds_cents"] == 0

    second = boss.post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": package, "quantity": 1}], "restock": False, "reason": "moved"})
    assert second.status_code == 201, second.json
    sent = standin.requests_to("POST", "/v1/refunds")[-1]
    # What is left on the card, 400.00, then the 50.00 of cash from the drawer.
    assert int(sent.form["amount"]) == TOTAL - 5000 - (SERUM + SERUM_TAX) == 40000
    figures = drawer(api)
    assert figures["cash_refunds_cents"] == 5000
    assert figures["expected_cents"] == 10000


def test_cash_and_external_card_refund_the_external_card_first(api, shop):
    sale = split_sale(api, shop, [
        {"method": "cash", "amount_cents": 50000},
        {"method": "external_card", "amount_cents": TOTAL - 50000, "last4": "1234",
         "auth_code": "A1"}])
    serum = sale["lines"][1]["id"]
    refund = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": serum, "quantity": 1}], "restock": True, "reason": "allergy"})
    assert refund.status_code == 201, refund.json
    assert refund.json["status"] == "succeeded"
    # 20.20 back on the card machine, the other 50.00 out of the drawer.
    assert drawer(api)["cash_refunds_cents"] == SERUM + SERUM_TAX - (TOTAL - 50000)

"""The card reader and account credit as tenders of a split sale (issue 14, parts 1, 2, 4,
6): the real `stripe` SDK against the stand-in over HTTP and its signed events to the
app's webhook; account credit spent in the sale's transaction and given back by a refund
or a cancel."""
from __future__ import annotations

from typing import Any

import pytest
import stripe
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import ClientCreditEntry, Payment, StockMovement
from pos.services import credit
from pos.services.transaction import write_transaction
from tests.factories import make_item
from tests.fixtures_payments import make_client, stock_of
from tests.stripe_standin import StripeStandIn

SERUM = 6500
TOTAL = 2 * SERUM  # 13000, not taxed
CASH = 5000
DECLINED = "4000000000000002"
LINES = [{"sku": "SERUM", "quantity": 2}]


@pytest.fixture
def shop(stripe_app, api):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=SERUM, taxable=False,
              lots=[("S-1", 3, 200)])
    make_item("MASK", name="Sheet mask", price_cents=5000, taxable=False,
              lots=[("M-1", 4, 100)])
    opened = api("front_desk").post("/api/v1/drawers", json={"opening_float_cents": 10000})
    assert opened.status_code == 201, opened.json
    return make_client("Ines", "Marquez", "ines.marquez@example.org")


@pytest.fixture
def reader(api, shop) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = api("manager").post("/api/v1/terminal/readers", json={
        "registration_code": "simulated-wpe", "label": "Front desk reader"})
    assert response.status_code == 201, response.json
    return response.json


def split(api, reader, client_id=None, status=201, **terminal):  # type: ignore[no-untyped-def]
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "lines": LINES, "payments": [
            {"method": "cash", "amount_cents": CASH},
            {"method": "terminal", "amount_cents": TOTAL - CASH, "reader_id": reader["id"],
             **terminal}]})
    assert response.status_code == status, response.json
    return response.json


def intent_of(sale: dict[str, Any]) -> str:
    db.session.rollback()
    intent = db.session.scalar(select(Payment.payment_intent_id).where(
        Payment.sale_id == sale["id"], Payment.method == "terminal",
        Payment.status == "pending"))
    assert intent is not None
    return intent


def present(standin: StripeStandIn, reader: dict[str, Any], number: str = "4242424242424242"
            ) -> None:
    stripe.StripeClient("sk_test_x", base_addresses={"api": standin.api_base},
                        max_network_retries=0).v1.test_helpers.terminal.readers \
        .present_payment_method(reader["reader_id"],
                                {"type": "card_present", "card_present": {"number": number}})


def post(client, payload_header: tuple[bytes, str]):  # type: ignore[no-untyped-def]
    payload, header = payload_header
    return client.post("/stripe/webhook", data=payload,
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def drawer(api):  # type: ignore[no-untyped-def]
    return api("front_desk").get("/api/v1/drawers/current").json


def sold_units(sale_id: int) -> int:
    db.session.rollback()
    return -int(db.session.scalar(select(func.coalesce(func.sum(StockMovement.qty_delta), 0))
                                  .where(StockMovement.reference == f"sale:{sale_id}")))


def sale_of(api, sale):  # type: ignore[no-untyped-def]
    return api("front_desk").get(f"/api/v1/sales/{sale['id']}").json


def test_fifty_cash_and_the_rest_on_the_reader_is_paid_once_out_of_order(
        api, shop, reader, standin, client):
    sale = split(api, reader, shop)

    assert (sale["status"], sale["payment_method"]) == ("awaiting_payment", "split")
    cash, terminal = sale["payments"]
    assert (cash["method"], cash["status"]) == ("cash", "succeeded")
    assert (terminal["method"], terminal["status"], terminal["reader_id"]) == \
        ("terminal", "pending", reader["id"])
    assert stock_of("SERUM") == (3, 2)  # held
    assert drawer(api)["cash_sales_cents"] == CASH
    (created,) = standin.requests_to("POST", "/v1/payment_intents")
    assert created.form["amount"] == str(TOTAL - CASH)
    assert created.form["metadata[payment_id]"] == str(terminal["id"])
    intent_id = intent_of(sale)
    (handed,) = standin.requests_to(
        "POST", f"/v1/terminal/readers/{reader['reader_id']}/process_payment_intent")
    assert handed.form["payment_intent"] == intent_id

    present(standin, reader)
    succeeded = standin.intent_event(intent_id, "payment_intent.succeeded")
    assert post(client, standin.reader_event(
        reader["reader_id"], "terminal.reader.action_succeeded")).json["result"] == "ignored"
    results = [post(client, succeeded).json["result"] for _ in range(2)]
    results.append(post(client, standin.intent_event(
        intent_id, "payment_intent.succeeded")).json["result"])
    assert results == ["paid", "duplicate", "already_paid"]

    paid = sale_of(api, sale)
    assert paid["status"] == "paid" and paid["receipt_number"] is not None
    assert [(p["method"], p["status"]) for p in paid["payments"]] == \
        [("cash", "succeeded"), ("terminal", "succeeded")]
    assert paid["payments"][1]["last4"] == "4242"
    assert stock_of("SERUM") == (1, 0)
    assert sold_units(sale["id"]) == 2
    figures = drawer(api)
    assert (figures["cash_sales_cents"], figures["expected_cents"]) == (CASH, 10000 + CASH)


def test_a_decline_keeps_the_cash_and_a_retry_on_the_reader_pays(api, shop, reader, standin,
                                                                 client):
    sale = split(api, reader, shop)
    intent_id = intent_of(sale)
    present(standin, reader, DECLINED)
    assert post(client, standin.reader_event(
        reader["reader_id"], "terminal.reader.action_failed")).json["result"] == "declined"

    declined = sale_of(api, sale)
    assert declined["status"] == "awaiting_payment"
    cash, terminal = declined["payments"]
    assert cash["status"] == "succeeded" and terminal["status"] == "pending"
    assert terminal["last_error"] == "Your card was declined."
    assert declined["balance_cents"] == 0  # the reader tender is still under way
    assert drawer(api)["cash_sales_cents"] == CASH
    assert stock_of("SERUM") == (3, 2)

    retried = api("front_desk").post(f"/api/v1/sales/{sale['id']}/terminal/retry")
    assert retried.status_code == 200, retried.json
    assert retried.json["payments"][1]["last_error"] is None
    present(standin, reader)
    assert post(client, standin.intent_event(
        intent_id, "payment_intent.succeeded")).json["result"] == "paid"
    assert sale_of(api, sale)["status"] == "paid"
    assert len(standin.requests_to("POST", "/v1/payment_intents")) == 1
    assert stock_of("SERUM") == (1, 0) and sold_units(sale["id"]) == 2
    assert drawer(api)["cash_sales_cents"] == CASH


def test_after_a_decline_another_tender_pays_the_balance(api, shop, reader, standin, client):
    sale = split(api, reader, shop)
    intent_id = intent_of(sale)
    present(standin, reader, DECLINED)
    post(client, standin.reader_event(reader["reader_id"], "terminal.reader.action_failed"))

    cash = api("front_desk").post(f"/api/v1/sales/{sale['id']}/payments", json={
        "method": "cash", "amount_cents": TOTAL - CASH})

    assert cash.status_code == 201, cash.json
    assert cash.json["status"] == "paid"
    assert [(p["method"], p["status"]) for p in cash.json["payments"]] == [
        ("cash", "succeeded"), ("terminal", "cancelled"), ("cash", "succeeded")]
    assert standin.payment_intents[intent_id]["status"] == "canceled"
    assert drawer(api)["cash_sales_cents"] == TOTAL
    assert stock_of("SERUM") == (1, 0)


def test_cancelling_gives_the_cash_back_and_stops_the_reader(api, shop, reader, standin):
    sale = split(api, reader, shop)
    intent_id = intent_of(sale)

    cancelled = api("front_desk").post(f"/api/v1/sales/{sale['id']}/cancel")

    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled"
    assert [p["status"] for p in cancelled.json["payments"]] == ["refunded", "cancelled"]
    assert standin.requests_to(
        "POST", f"/v1/terminal/readers/{reader['reader_id']}/cancel_action")
    assert standin.payment_intents[intent_id]["status"] == "canceled"
    figures = drawer(api)
    assert (figures["cash_sales_cents"], figures["cash_refunds_cents"]) == (CASH, CASH)
    assert stock_of("SERUM") == (3, 0)


def test_a_refund_sends_the_readers_share_through_its_payment_intent_then_cash(
        api, shop, reader, standin, client):
    sale = split(api, reader, shop)
    intent_id = intent_of(sale)
    present(standin, reader)
    post(client, standin.intent_event(intent_id, "payment_intent.succeeded"))
    line_id = sale_of(api, sale)["lines"][0]["id"]

    refund = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": line_id, "quantity": 2}], "restock": True, "reason": "allergy"})

    assert refund.status_code == 201, refund.json
    assert refund.json["amount_cents"] == TOTAL
    (sent,) = standin.requests_to("POST", "/v1/refunds")
    assert sent.form["payment_intent"] == intent_id
    assert int(sent.form["amount"]) == TOTAL - CASH
    figures = drawer(api)
    assert figures["cash_refunds_cents"] == CASH
    assert figures["expected_cents"] == 10000
    assert stock_of("SERUM") == (3, 0)


def test_a_tip_on_the_reader_is_charged_with_the_tender_and_in_the_report(
        api, shop, reader, standin, client, users):
    provider = users.get("provider")
    sale = split(api, reader, shop, tip_cents=700, tip_provider_id=provider.id)
    (created,) = standin.requests_to("POST", "/v1/payment_intents")
    assert created.form["amount"] == str(TOTAL - CASH + 700)
    present(standin, reader)
    assert post(client, standin.intent_event(
        intent_of(sale), "payment_intent.succeeded")).json["result"] == "paid"
    paid = sale_of(api, sale)
    assert paid["status"] == "paid" and paid["total_cents"] == TOTAL
    assert paid["payments"][1]["tip_cents"] == 700
    assert drawer(api)["cash_sales_cents"] == CASH  # the reader's tip is not in the drawer
    from pos.services import clock

    month = clock.today().strftime("%Y-%m")
    report = api("manager").get(f"/api/v1/reports/monthly?month={month}").json
    assert report["tips"] == [{"provider_id": provider.id, "name": provider.name,
                               "tip_cents": 700}]
    assert report["gross_cents"] == TOTAL  # the tip is not revenue
    tenders = {row["method"]: row["amount_cents"] for row in report["tenders"]}
    assert tenders == {"cash": CASH, "terminal": TOTAL - CASH}


def test_a_reader_tender_needs_its_reader_and_one_pending_at_a_time(api, shop, reader):
    missing = api("front_desk").post("/api/v1/sales", json={"lines": LINES, "payments": [
        {"method": "terminal", "amount_cents": TOTAL}]})
    assert missing.status_code == 422
    assert missing.json["error"]["code"] == "validation_error"
    unknown = api("front_desk").post("/api/v1/sales", json={"lines": LINES, "payments": [
        {"method": "terminal", "amount_cents": TOTAL, "reader_id": reader["id"] + 99}]})
    assert unknown.status_code == 422
    assert unknown.json["error"]["code"] == "unknown_reader"
    two = api("front_desk").post("/api/v1/sales", json={"lines": LINES, "payments": [
        {"method": "card", "amount_cents": CASH},
        {"method": "terminal", "amount_cents": TOTAL - CASH, "reader_id": reader["id"]}]})
    assert two.status_code == 422
    assert stock_of("SERUM") == (3, 0)


# -- account credit ------------------------------------------------------------------------

def give_credit(client_id: int, cents: int) -> None:
    with write_transaction() as session:
        credit.issue_credit(session, client_id, cents, reason="goodwill")


def credit_cents(api, client_id):  # type: ignore[no-untyped-def]
    return api("front_desk").get(f"/api/v1/clients/{client_id}").json["credit_cents"]


def test_thirty_of_credit_and_twenty_cash_and_the_refund_gives_each_back(api, shop):
    give_credit(shop, 3000)

    sale = api("front_desk").post("/api/v1/sales", json={
        "client_id": shop, "lines": [{"sku": "MASK", "quantity": 1}], "payments": [
            {"method": "account_credit", "amount_cents": 3000},
            {"method": "cash", "amount_cents": 2000}]})

    assert sale.status_code == 201, sale.json
    assert (sale.json["status"], sale.json["total_cents"]) == ("paid", 5000)
    assert [(p["method"], p["status"]) for p in sale.json["payments"]] == \
        [("account_credit", "succeeded"), ("cash", "succeeded")]
    assert credit_cents(api, shop) == 0
    assert drawer(api)["cash_sales_cents"] == 2000
    assert stock_of("MASK") == (3, 0)
    spent = db.session.scalar(select(ClientCreditEntry).where(
        ClientCreditEntry.amount_cents < 0))
    assert spent is not None and spent.payment_id == sale.json["payments"][0]["id"]

    refund = api("manager").post(f"/api/v1/sales/{sale.json['id']}/refunds", json={
        "lines": [{"line_id": sale.json["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "changed her mind"})

    assert refund.status_code == 201, refund.json
    assert refund.json["amount_cents"] == 5000
    assert credit_cents(api, shop) == 3000
    figures = drawer(api)
    assert (figures["cash_refunds_cents"], figures["expected_cents"]) == (2000, 10000)
    assert stock_of("MASK") == (4, 0)


def test_more_credit_than_held_or_no_client_is_refused_and_nothing_is_written(api, shop):
    give_credit(shop, 3000)
    too_much = api("front_desk").post("/api/v1/sales", json={
        "client_id": shop, "lines": [{"sku": "MASK", "quantity": 1}], "payments": [
            {"method": "account_credit", "amount_cents": 4000},
            {"method": "cash", "amount_cents": 1000}]})
    assert too_much.status_code == 422
    assert too_much.json["error"]["code"] == "credit_too_low"
    assert too_much.json["error"]["details"] == {"credit_cents": 3000, "amount_cents": 4000}
    no_client = api("front_desk").post("/api/v1/sales", json={
        "lines": [{"sku": "MASK", "quantity": 1}], "payments": [
            {"method": "account_credit", "amount_cents": 5000}]})
    assert no_client.status_code == 422
    assert no_client.json["error"]["code"] == "client_required"
    assert credit_cents(api, shop) == 3000
    assert drawer(api)["cash_sales_cents"] == 0
    assert stock_of("MASK") == (4, 0)


def test_cancelling_an_awaiting_sale_gives_the_credit_back(api, shop, standin):
    give_credit(shop, 3000)
    sale = api("front_desk").post("/api/v1/sales", json={
        "client_id": shop, "lines": [{"sku": "MASK", "quantity": 1}], "payments": [
            {"method": "account_credit", "amount_cents": 3000},
            {"method": "card", "amount_cents": 2000}]})
    assert sale.status_code == 201, sale.json
    assert sale.json["status"] == "awaiting_payment"
    assert credit_cents(api, shop) == 0

    cancelled = api("front_desk").post(f"/api/v1/sales/{sale.json['id']}/cancel")

    assert cancelled.status_code == 200, cancelled.json
    assert [p["status"] for p in cancelled.json["payments"]] == ["refunded", "cancelled"]
    assert credit_cents(api, shop) == 3000
    assert stock_of("MASK") == (4, 0)


# -- the desk's add-tender form ------------------------------------------------------------

def test_the_desks_split_offers_the_reader_and_the_credit_and_shows_tap_insert_or_swipe(
        api, shop, reader, standin, client, login_as):
    from pos.services.sales import tenders
    from pos.services.sales.cart import CartLine
    from tests.fixtures_payments import csrf_token_of

    give_credit(shop, 3000)
    sale_id = tenders.open_split_sale(client_id=shop, lines=[CartLine(sku="SERUM", package_code=None,
                                                                quantity=2)],
                                      discount_code=None, user_id=None).id
    login_as("front_desk")
    page = client.get(f"/sales/{sale_id}").get_data(as_text=True)
    assert 'value="terminal"' in page and "Card reader" in page
    assert "Account credit ($30.00)" in page
    assert "Front desk reader" in page  # the reader picker
    token = csrf_token_of(page)

    def add(**fields: str):  # type: ignore[no-untyped-def]
        return client.post(f"/sales/{sale_id}/payments", data={
            "tender-csrf_token": token, **{f"tender-{k}": v for k, v in fields.items()}})

    assert add(method="account_credit", amount="30.00").status_code == 302
    assert add(method="cash", amount="20.00").status_code == 302
    assert add(method="terminal", amount="80.00", reader=str(reader["id"])).status_code == 302
    page = client.get(f"/sales/{sale_id}").get_data(as_text=True)
    assert "Tap, insert or swipe on <strong>Front desk reader</strong>" in page
    assert 'id="tender-form"' not in page  # one card or reader payment at a time
    assert credit_cents(api, shop) == 0
    intent_id = intent_of({"id": sale_id})
    assert standin.payment_intents[intent_id]["amount"] == 8000

    present(standin, reader, DECLINED)
    post(client, standin.reader_event(reader["reader_id"], "terminal.reader.action_failed"))
    page = client.get(f"/sales/{sale_id}").get_data(as_text=True)
    assert "Your card was declined." in page and 'id="reader-retry"' in page
    assert 'id="tender-form"' in page  # or another way for the balance
    assert client.post(f"/sales/{sale_id}/terminal/retry",
                       data={"csrf_token": token}).status_code == 302
    present(standin, reader)
    post(client, standin.intent_event(intent_id, "payment_intent.succeeded"))
    paid = api("front_desk").get(f"/api/v1/sales/{sale_id}").json
    assert paid["status"] == "paid"
    assert [p["method"] for p in paid["payments"]] == ["account_credit", "cash", "terminal"]
    assert drawer(api)["cash_sales_cents"] == 2000


def test_a_sale_paid_by_card_and_on_the_reader_refunds_each_through_its_own_intent(
        api, shop, reader, standin, client):
    from pos.services.sales import tenders
    from pos.services.sales.cart import CartLine
    from tests.fixtures_payments import deliver

    sale_id = tenders.open_split_sale(client_id=shop, lines=[
        CartLine(sku="SERUM", package_code=None, quantity=2)], discount_code=None,
        user_id=None).id
    desk = api("front_desk")
    card = desk.post(f"/api/v1/sales/{sale_id}/payments",
                     json={"method": "card", "amount_cents": 3000})
    assert card.status_code == 201, card.json
    session_id = card.json["checkout_session_id"]
    standin.pay(session_id)
    assert deliver(client, standin, session_id,
                   "checkout.session.completed").json["result"] == "tender_paid"
    on_reader = desk.post(f"/api/v1/sales/{sale_id}/payments", json={
        "method": "terminal", "amount_cents": TOTAL - 3000, "reader_id": reader["id"]})
    assert on_reader.status_code == 201, on_reader.json
    terminal_intent = intent_of({"id": sale_id})
    present(standin, reader)
    assert post(client, standin.intent_event(
        terminal_intent, "payment_intent.succeeded")).json["result"] == "paid"
    db.session.rollback()
    card_intent = db.session.scalar(select(Payment.payment_intent_id).where(
        Payment.sale_id == sale_id, Payment.method == "card"))
    assert card_intent and card_intent != terminal_intent

    line_id = desk.get(f"/api/v1/sales/{sale_id}").json["lines"][0]["id"]
    refund = api("manager").post(f"/api/v1/sales/{sale_id}/refunds", json={
        "lines": [{"line_id": line_id, "quantity": 2}], "restock": True, "reason": "allergy"})

    assert refund.status_code == 201, refund.json
    sent = standin.requests_to("POST", "/v1/refunds")
    assert [(r.form["payment_intent"], int(r.form["amount"])) for r in sent] == [
        (card_intent, 3000), (terminal_intent, TOTAL - 3000)]
    assert drawer(api)["cash_refunds_cents"] == 0
    assert stock_of("SERUM") == (3, 0)


def test_a_sale_paid_all_in_credit_and_its_void_give_the_credit_back(api, shop):
    give_credit(shop, 6000)
    sale = api("front_desk").post("/api/v1/sales", json={
        "client_id": shop, "lines": [{"sku": "MASK", "quantity": 1}], "payments": [
            {"method": "account_credit", "amount_cents": 5000}]})
    assert sale.status_code == 201, sale.json
    assert (sale.json["status"], sale.json["payment_method"]) == ("paid", "account_credit")
    assert credit_cents(api, shop) == 1000

    voided = api("manager").post(f"/api/v1/sales/{sale.json['id']}/void",
                                 json={"reason": "rang up the wrong client"})

    assert voided.status_code in (200, 201), voided.json
    assert credit_cents(api, shop) == 6000
    assert drawer(api)["cash_refunds_cents"] == 0
    assert stock_of("MASK") == (4, 0)


def test_a_bad_tender_leaves_a_declined_reader_tender_to_retry(api, shop, reader, standin,
                                                               client):
    sale = split(api, reader, shop)
    present(standin, reader, DECLINED)
    post(client, standin.reader_event(reader["reader_id"], "terminal.reader.action_failed"))

    intent_id = intent_of(sale)
    bad = api("front_desk").post(f"/api/v1/sales/{sale['id']}/payments", json={
        "method": "cash", "amount_cents": TOTAL - CASH, "tip_cents": 100,
        "tip_provider_id": 99999})  # no such provider: refused by the service

    assert bad.status_code == 422, bad.json
    still = sale_of(api, sale)
    assert still["payments"][1]["status"] == "pending"
    assert standin.payment_intents[intent_id]["status"] != "canceled"
    assert api("front_desk").post(
        f"/api/v1/sales/{sale['id']}/terminal/retry").status_code == 200


def test_a_card_tender_after_a_declined_reader_one_is_expired_when_the_sale_is_cancelled(
        api, shop, reader, standin, client):
    sale = split(api, reader, shop)
    present(standin, reader, DECLINED)
    post(client, standin.reader_event(reader["reader_id"], "terminal.reader.action_failed"))
    card = api("front_desk").post(f"/api/v1/sales/{sale['id']}/payments",
                                  json={"method": "card", "amount_cents": TOTAL - CASH})
    assert card.status_code == 201, card.json
    session_id = card.json["checkout_session_id"]

    cancelled = api("front_desk").post(f"/api/v1/sales/{sale['id']}/cancel")

    assert cancelled.status_code == 200, cancelled.json
    assert [p["status"] for p in cancelled.json["payments"]] == \
        ["refunded", "cancelled", "cancelled"]
    assert standin.requests_to("POST", f"/v1/checkout/sessions/{session_id}/expire")
    assert drawer(api)["cash_refunds_cents"] == CASH
    assert stock_of("SERUM") == (3, 0)

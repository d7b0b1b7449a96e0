"""Card reader sales (Stripe Terminal, server-driven): the real `stripe` SDK against the
local stand-in over HTTP, and its signed events to the app's webhook (issue 14, part 2)."""
from __future__ import annotations

import json
from typing import Any

import pytest
import stripe
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import Payment, ProcessedEvent, StockMovement
from pos.services import sales
from tests.factories import make_item
from tests.fixtures_payments import make_client, stock_of
from tests.stripe_standin import StripeStandIn

CLIENT_EMAIL = "ines.marquez@example.org"
DECLINED = "4000000000000002"


@pytest.fixture
def shop(stripe_app):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, taxable=False,
              lots=[("S-1", 3, 200)])
    return make_client("Ines", "Marquez", CLIENT_EMAIL)


def stripe_client(standin: StripeStandIn) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": standin.api_base},
                               max_network_retries=0)


def register(api, label: str = "Front desk reader", code: str = "simulated-wpe"):  # type: ignore[no-untyped-def]
    return api("manager").post("/api/v1/terminal/readers",
                               json={"registration_code": code, "label": label})


@pytest.fixture
def reader(api, shop) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = register(api)
    assert response.status_code == 201, response.json
    return response.json


def reader_sale(api, reader, client_id=None, quantity=1):  # type: ignore[no-untyped-def]
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "payment": "terminal", "reader_id": reader["id"],
        "lines": [{"sku": "SERUM", "quantity": quantity}]})
    assert response.status_code == 201, response.json
    return response.json


def tender_of(sale: dict[str, Any]) -> Payment:
    db.session.rollback()
    tender = db.session.scalar(select(Payment).where(Payment.sale_id == sale["id"]))
    assert tender is not None
    return tender


def post(client, payload_header: tuple[bytes, str]):  # type: ignore[no-untyped-def]
    payload, header = payload_header
    return client.post("/stripe/webhook", data=payload,
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def present(standin: StripeStandIn, reader: dict[str, Any], number: str = "4242424242424242"
            ) -> None:
    stripe_client(standin).v1.test_helpers.terminal.readers.present_payment_method(
        reader["reader_id"], {"type": "card_present", "card_present": {"number": number}})


def sold_units(sale_id: int) -> int:
    db.session.rollback()
    return -int(db.session.scalar(select(func.coalesce(func.sum(StockMovement.qty_delta), 0))
                                  .where(StockMovement.reference == f"sale:{sale_id}")))


def test_a_manager_registers_readers_under_one_terminal_location(api, shop, standin):
    first = register(api, "Desk 1")
    second = register(api, "Desk 2")

    assert first.status_code == second.status_code == 201
    assert first.json["reader_id"].startswith("tmr_")
    assert first.json["device_type"] == "simulated_wisepos_e"
    assert first.json["status"] == "online"
    assert len(standin.requests_to("POST", "/v1/terminal/locations")) == 1
    (loc,) = standin.locations
    assert [r.form["location"] for r in standin.requests_to("POST", "/v1/terminal/readers")] \
        == [loc, loc]
    listed = api("front_desk").get("/api/v1/terminal/readers")
    assert [r["label"] for r in listed.json] == ["Desk 1", "Desk 2"]


def test_registering_is_for_managers_and_a_wrong_code_is_refused(api, shop, standin):
    refused = api("front_desk").post("/api/v1/terminal/readers",
                                     json={"registration_code": "simulated-wpe", "label": "x"})
    assert refused.status_code == 403
    assert not standin.requests_to("POST", "/v1/terminal/readers")
    wrong = register(api, code="nine-words-that-are-wrong")
    assert wrong.status_code == 422
    assert wrong.json["error"]["code"] == "reader_registration_failed"
    bad = api("manager").post("/api/v1/terminal/readers", json={"label": "no code"})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "validation_error"
    assert api("front_desk").get("/api/v1/terminal/readers").json == []


def test_a_reader_sale_holds_stock_and_hands_a_card_present_intent_to_the_reader(
        api, shop, reader, standin):
    sale = reader_sale(api, reader, shop)

    assert sale["status"] == "awaiting_payment"
    assert sale["payment_method"] == "terminal"
    (payment,) = sale["payments"]
    assert payment["method"] == "terminal" and payment["status"] == "pending"
    assert payment["reader_id"] == reader["id"] and payment["last_error"] is None
    assert stock_of("SERUM") == (3, 1)
    (created,) = standin.requests_to("POST", "/v1/payment_intents")
    assert created.form["amount"] == "6500" and created.form["currency"] == "usd"
    assert created.form["payment_method_types[0]"] == "card_present"
    assert created.form["capture_method"] == "automatic"
    assert created.form["metadata[sale_id]"] == str(sale["id"])
    assert created.form["metadata[payment_id]"] == str(payment["id"])
    assert created.headers["idempotency-key"] == f"payment-{payment['id']}-terminal"
    tender = tender_of(sale)
    assert tender.payment_intent_id in standin.payment_intents
    (handed,) = standin.requests_to(
        "POST", f"/v1/terminal/readers/{reader['reader_id']}/process_payment_intent")
    assert handed.form["payment_intent"] == tender.payment_intent_id
    everything_sent = json.dumps([r.form for r in standin.requests]).lower()
    for private in ("ines", "marquez", CLIENT_EMAIL, "555-0100", "5550100"):
        assert private not in everything_sent


def test_paid_once_although_succeeded_arrives_three_times_and_out_of_order(
        api, shop, reader, standin, client):
    sale = reader_sale(api, reader, shop)
    intent_id = tender_of(sale).payment_intent_id
    assert intent_id is not None
    present(standin, reader)
    succeeded = standin.intent_event(intent_id, "payment_intent.succeeded")
    # Out of order: the reader's own news first, then the payment three times (the same
    # delivery twice, and a second event about the same PaymentIntent).
    assert post(client, standin.reader_event(
        reader["reader_id"], "terminal.reader.action_succeeded")).json["result"] == "ignored"
    results = [post(client, succeeded).json["result"] for _ in range(2)]
    results.append(post(client, standin.intent_event(
        intent_id, "payment_intent.succeeded")).json["result"])
    assert results == ["paid", "duplicate", "already_paid"]
    # An old decline of this reader arriving late changes nothing.
    late = standin.object_event({**standin.readers[reader["reader_id"]], "action": {
        "type": "process_payment_intent", "status": "failed",
        "failure_code": "card_declined", "failure_message": "Your card was declined.",
        "process_payment_intent": {"payment_intent": intent_id}}},
        "terminal.reader.action_failed")
    assert post(client, late).json["result"] == "ignored"

    paid = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert paid["status"] == "paid" and paid["receipt_number"] is not None
    (payment,) = paid["payments"]
    assert payment["status"] == "succeeded" and payment["last4"] == "4242"
    assert payment["card_brand"] == "visa" and payment["last_error"] is None
    assert stock_of("SERUM") == (2, 0)
    assert sold_units(sale["id"]) == 1
    assert db.session.scalar(select(func.count()).select_from(ProcessedEvent)) == 3


def test_a_decline_then_a_retry_on_the_same_reader(api, shop, reader, standin, client):
    sale = reader_sale(api, reader, shop)
    intent_id = tender_of(sale).payment_intent_id
    present(standin, reader, DECLINED)
    failed_intent = standin.intent_event(intent_id, "payment_intent.payment_failed")
    failed_reader = standin.reader_event(reader["reader_id"], "terminal.reader.action_failed")
    assert post(client, failed_reader).json["result"] == "declined"
    assert post(client, failed_intent).json["result"] == "declined"

    declined = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert declined["status"] == "awaiting_payment"
    assert declined["payments"][0]["last_error"] == "Your card was declined."
    assert declined["payments"][0]["status"] == "pending"
    assert stock_of("SERUM") == (3, 1)

    retried = api("front_desk").post(f"/api/v1/sales/{sale['id']}/terminal/retry")
    assert retried.status_code == 200, retried.json
    assert retried.json["payments"][0]["last_error"] is None
    handed = standin.requests_to(
        "POST", f"/v1/terminal/readers/{reader['reader_id']}/process_payment_intent")
    assert [r.form["payment_intent"] for r in handed] == [intent_id, intent_id]
    assert len(standin.requests_to("POST", "/v1/payment_intents")) == 1

    present(standin, reader)
    assert post(client, standin.intent_event(
        intent_id, "payment_intent.succeeded")).json["result"] == "paid"
    assert api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["status"] == "paid"
    assert stock_of("SERUM") == (2, 0)
    again = api("front_desk").post(f"/api/v1/sales/{sale['id']}/terminal/retry")
    assert again.status_code == 409 and again.json["error"]["code"] == "terminal_not_retryable"


def test_cancel_during_collection_releases_the_hold(api, shop, reader, standin, client):
    sale = reader_sale(api, reader, shop, quantity=2)
    intent_id = tender_of(sale).payment_intent_id
    assert stock_of("SERUM") == (3, 2)

    cancelled = api("front_desk").post(f"/api/v1/sales/{sale['id']}/terminal/cancel")

    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled"
    assert cancelled.json["payments"][0]["status"] == "cancelled"
    assert stock_of("SERUM") == (3, 0)
    assert standin.requests_to(
        "POST", f"/v1/terminal/readers/{reader['reader_id']}/cancel_action")
    assert standin.payment_intents[intent_id]["status"] == "canceled"
    assert standin.readers[reader["reader_id"]]["action"] is None
    # The reader is free for the next sale.
    nxt = reader_sale(api, reader, shop)
    assert nxt["payments"][0]["last_error"] is None
    assert api("front_desk").post(
        f"/api/v1/sales/{sale['id']}/terminal/retry").status_code == 409


def test_a_busy_reader_leaves_the_sale_awaiting_with_the_error(api, shop, reader, standin):
    first = reader_sale(api, reader, shop)
    second = reader_sale(api, reader, shop)

    assert first["payments"][0]["last_error"] is None
    assert second["status"] == "awaiting_payment"
    assert "busy" in second["payments"][0]["last_error"]
    assert stock_of("SERUM") == (3, 2)
    # Once the first is cancelled, "Try again" hands the second to the reader.
    assert api("front_desk").post(
        f"/api/v1/sales/{first['id']}/terminal/cancel").status_code == 200
    retried = api("front_desk").post(f"/api/v1/sales/{second['id']}/terminal/retry")
    assert retried.json["payments"][0]["last_error"] is None


def test_an_amount_that_is_not_the_tenders_is_flagged_not_paid(api, shop, reader, standin,
                                                              client):
    sale = reader_sale(api, reader, shop)
    intent_id = tender_of(sale).payment_intent_id
    present(standin, reader)
    wrong = {**standin.payment_intents[intent_id], "amount": 100, "amount_received": 100}
    assert post(client, standin.object_event(
        wrong, "payment_intent.succeeded")).json["result"] == "flagged"
    flagged = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert flagged["status"] == "awaiting_payment" and "amount mismatch" in flagged["flag"]


def test_reconcile_settles_a_reader_payment_whose_event_never_came(api, shop, reader,
                                                                    standin):
    sale = reader_sale(api, reader, shop)
    present(standin, reader)  # no webhook_url: no event reaches the app

    counts = sales.reconcile()

    assert counts["paid"] == 1
    assert api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["status"] == "paid"
    assert stock_of("SERUM") == (2, 0)
    assert sales.reconcile()["paid"] == 0


def test_a_refund_of_a_reader_sale_goes_through_stripe(api, shop, reader, standin, client):
    sale = reader_sale(api, reader, shop)
    intent_id = tender_of(sale).payment_intent_id
    present(standin, reader)
    post(client, standin.intent_event(intent_id, "payment_intent.succeeded"))
    line_id = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["lines"][0]["id"]

    refund = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": line_id, "quantity": 1}], "restock": True,
        "reason": "client changed her mind"})

    assert refund.status_code == 201, refund.json
    (sent,) = standin.requests_to("POST", "/v1/refunds")
    assert sent.form["payment_intent"] == intent_id and sent.form["amount"] == "6500"
    charge = standin.charges[standin.payment_intents[intent_id]["latest_charge"]]
    assert charge["amount_refunded"] == 6500
    assert stock_of("SERUM") == (3, 0)


def test_terminal_payment_needs_a_known_reader(api, shop, reader):
    missing = api("front_desk").post("/api/v1/sales", json={
        "payment": "terminal", "lines": [{"sku": "SERUM", "quantity": 1}]})
    assert missing.status_code == 422
    assert missing.json["error"]["details"]["fields"]["reader_id"]
    unknown = api("front_desk").post("/api/v1/sales", json={
        "payment": "terminal", "reader_id": reader["id"] + 99,
        "lines": [{"sku": "SERUM", "quantity": 1}]})
    assert unknown.status_code == 422 and unknown.json["error"]["code"] == "unknown_reader"
    assert stock_of("SERUM") == (3, 0)


def test_a_cancel_after_the_tap_keeps_the_payment_and_is_refused(api, shop, reader, standin):
    sale = reader_sale(api, reader, shop)
    present(standin, reader)  # paid at the reader; its event has not arrived yet

    refused = api("front_desk").post(f"/api/v1/sales/{sale['id']}/terminal/cancel")

    assert refused.status_code == 409 and refused.json["error"]["code"] == "sale_already_paid"
    paid = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert paid["status"] == "paid" and paid["payments"][0]["last4"] == "4242"
    assert stock_of("SERUM") == (2, 0)
    assert not standin.requests_to("POST", "/v1/refunds")


def test_a_payment_landing_after_a_cancel_is_refunded_automatically(api, shop, reader,
                                                                    standin, client):
    sale = reader_sale(api, reader, shop)
    intent_id = tender_of(sale).payment_intent_id
    assert api("front_desk").post(f"/api/v1/sales/{sale['id']}/cancel").status_code == 200
    # Stripe's answer to the cancel was lost: the payment it let through arrives later.
    charge_id = "ch_test_late"
    standin.charges[charge_id] = {
        "id": charge_id, "object": "charge", "amount": 6500, "amount_refunded": 0,
        "currency": "usd", "payment_intent": intent_id, "paid": True, "status": "succeeded",
        "payment_method_details": {"type": "card_present",
                                   "card_present": {"brand": "visa", "last4": "4242"}}}
    standin.payment_intents[intent_id].update(status="succeeded", amount_received=6500,
                                              latest_charge=charge_id)

    result = post(client, standin.intent_event(intent_id, "payment_intent.succeeded"))

    assert result.json["result"] == "refunded"
    (sent,) = standin.requests_to("POST", "/v1/refunds")
    assert sent.form["payment_intent"] == intent_id and sent.form["amount"] == "6500"
    after = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert after["status"] == "cancelled" and after["payments"][0]["status"] == "refunded"
    assert stock_of("SERUM") == (3, 0)


def test_terminal_events_need_the_signature_and_usable_fields(api, shop, reader, standin,
                                                              client):
    sale = reader_sale(api, reader, shop)
    intent_id = tender_of(sale).payment_intent_id
    present(standin, reader)
    payload, _header = standin.intent_event(intent_id, "payment_intent.succeeded")
    forged = stripe.WebhookSignature.generate_signature_header(payload.decode(), "whsec_wrong")
    assert post(client, (payload, forged)).status_code == 400
    odd = {**standin.payment_intents[intent_id], "amount": "NaN"}
    refused = post(client, standin.object_event(odd, "payment_intent.succeeded"))
    assert refused.status_code == 422 and refused.json["error"]["code"] == "invalid_event"
    assert api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["status"] \
        == "awaiting_payment"
    assert stock_of("SERUM") == (3, 1)

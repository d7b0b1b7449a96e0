"""A sale's tenders (the `payments` table), and the webhook settling only the sale it
created: through the real stripe package, the local stand-in and correctly signed events."""
from __future__ import annotations

import json

import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pos.extensions import db
from pos.models import AuditEntry, Payment, Sale
from pos.services import ledger
from pos.services.transaction import write_transaction
from tests.factories import make_item
from tests.fixtures_payments import WEBHOOK_SECRET, deliver, row_counts, stock_of


@pytest.fixture
def serum(stripe_app):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, taxable=False, lots=[("S-1", 3, 200)])


def sell(api, payment: str, quantity: int = 1):  # type: ignore[no-untyped-def]
    response = api("front_desk").post("/api/v1/sales", json={
        "payment": payment, "lines": [{"sku": "SERUM", "quantity": quantity}]})
    assert response.status_code == 201, response.json
    return response.json


def tenders_of(sale_id: int) -> list[Payment]:
    db.session.rollback()  # what is committed now
    return list(db.session.scalars(select(Payment).where(Payment.sale_id == sale_id)))


def a_foreign_session(standin, sale: dict, *, amount: int) -> str:  # type: ignore[no-untyped-def]
    """A Checkout Session the app did not create for this sale (another till, another
    installation on the same Stripe account) that names the sale in its metadata."""
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": standin.api_base})
    session = client.v1.checkout.sessions.create({
        "mode": "payment", "success_url": "https://example.org/ok",
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": amount,
                                       "product_data": {"name": "Something"}},
                        "quantity": 1}],
        "client_reference_id": str(sale["id"]), "metadata": {"sale_id": str(sale["id"])}})
    return str(session.id)


def test_a_cash_sale_is_one_succeeded_tender_of_its_total(api, serum):
    sale = sell(api, "cash", quantity=2)

    assert sale["payments"] == [{"id": sale["payments"][0]["id"], "method": "cash",
                                 "amount_cents": 13000, "status": "succeeded",
                                 "tip_cents": 0}]
    (tender,) = tenders_of(sale["id"])
    assert (tender.method, tender.amount_cents, tender.status, tender.checkout_session_id) \
        == ("cash", 13000, "succeeded", None)


def test_a_card_tender_is_pending_then_succeeded_with_the_card_brand_and_last_4(
        api, serum, standin, client):
    sale = sell(api, "card")
    assert [(p["method"], p["amount_cents"], p["status"]) for p in sale["payments"]] \
        == [("card", 6500, "pending")]
    (tender,) = tenders_of(sale["id"])
    assert tender.checkout_session_id == sale["checkout_session_id"]

    standin.pay(sale["checkout_session_id"])
    assert deliver(client, standin, sale["checkout_session_id"],
                   "checkout.session.completed").json["result"] == "paid"

    paid = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    (payment,) = paid["payments"]
    assert (payment["status"], payment["card_brand"], payment["last4"], payment["amount_cents"]) \
        == ("succeeded", "visa", "4242", 6500)
    (tender,) = tenders_of(sale["id"])
    assert tender.payment_intent_id == standin.sessions[sale["checkout_session_id"]][
        "payment_intent"]
    # The ids have one home: the card tender; the sale reads them from it.
    assert db.session.get(Sale, sale["id"]).card_last4 == "4242"


@pytest.mark.parametrize(("event", "sale_status", "tender_status"), [
    ("checkout.session.expired", "expired", "cancelled"),
    ("checkout.session.async_payment_failed", "failed", "failed"),
])
def test_an_ended_checkout_ends_its_tender(api, serum, standin, client, event, sale_status,
                                           tender_status):
    sale = sell(api, "card")
    if event == "checkout.session.expired":
        standin.expire_session(sale["checkout_session_id"])
    deliver(client, standin, sale["checkout_session_id"], event)

    ended = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert (ended["status"], ended["payments"][0]["status"]) == (sale_status, tender_status)


def test_a_void_sale_cancels_its_card_tender(api, serum, standin):
    sale = sell(api, "card")
    void = api("manager").post(f"/api/v1/sales/{sale['id']}/void")
    assert (void.json["status"], void.json["payments"][0]["status"]) == ("void", "cancelled")


def test_a_paid_session_that_is_not_the_sales_own_is_flagged_and_does_not_pay_it(
        api, serum, standin, client):
    sale = sell(api, "card")
    foreign = a_foreign_session(standin, sale, amount=6500)  # even the right amount
    standin.pay(foreign)

    response = deliver(client, standin, foreign, "checkout.session.completed")

    assert (response.status_code, response.json["result"]) == (200, "flagged")
    flagged = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert flagged["status"] == "awaiting_payment" and flagged["receipt_number"] is None
    assert flagged["payments"][0]["status"] == "pending"
    assert foreign in flagged["flag"] and "not the sales own" in flagged["flag"]
    assert stock_of("SERUM") == (3, 1)  # still held for the sale, nothing sold
    (entry,) = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "sale.flag")).all()
    assert entry.details["checkout_session_id"] == foreign
    assert entry.details["payment_intent_id"] == standin.sessions[foreign]["payment_intent"]
    assert entry.details["paid_cents"] == 6500
    # Its ending does not end the sale either: only the sale's own session does that.
    assert deliver(client, standin, foreign, "checkout.session.expired").json["result"] \
        == "unknown_sale"
    assert stock_of("SERUM") == (3, 1)

    # The sale's own session still pays it afterwards.
    standin.pay(sale["checkout_session_id"])
    assert deliver(client, standin, sale["checkout_session_id"],
                   "checkout.session.completed").json["result"] == "paid"
    paid = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert (paid["status"], paid["receipt_number"]) == ("paid", 1)
    assert stock_of("SERUM") == (2, 0)


def test_a_paid_session_in_another_currency_is_flagged_not_accepted(api, serum, standin,
                                                                    client):
    sale = sell(api, "card")
    standin.sessions[sale["checkout_session_id"]]["currency"] = "eur"
    standin.pay(sale["checkout_session_id"])

    result = deliver(client, standin, sale["checkout_session_id"],
                     "checkout.session.completed").json["result"]

    assert result == "flagged"
    flagged = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert flagged["status"] == "awaiting_payment" and "currency" in flagged["flag"]
    assert stock_of("SERUM") == (3, 1)


def _signed(body: dict) -> tuple[bytes, str]:  # type: ignore[type-arg]
    payload = json.dumps(body)
    return payload.encode(), stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET)


def _set(body: dict, path: str, value: object) -> None:  # type: ignore[type-arg]
    *parents, last = path.split(".")
    for key in parents:
        body = body[key]
    body[last] = value


@pytest.mark.parametrize(("path", "value"), [
    ("data.object.amount_total", "NaN"),
    ("data.object.amount_total", "6500"),  # a string where a number belongs
    ("data.object.amount_total", 6500.5),
    ("data.object.expires_at", "NaN"),
    ("data.object.metadata.sale_id", "99999999999999999999"),
    ("data.object.client_reference_id", "99999999999999999999"),
    ("data.object.metadata.sale_id", "NaN"),
    ("data.object.id", "cs_" + "9" * 300),  # longer than the column
    ("data.object.payment_intent", 12345678901234567890),
    ("id", "evt_\u0000nul"),
    ("data.object.currency", 840),
])
def test_a_signed_event_with_unusable_fields_is_a_422_and_changes_nothing(
        api, serum, standin, client, path, value):
    sale = sell(api, "card")
    standin.pay(sale["checkout_session_id"])
    payload, _header = standin.event(sale["checkout_session_id"], "checkout.session.completed")
    body = json.loads(payload)
    _set(body, path, value)
    before = row_counts()

    signed, header = _signed(body)
    response = client.post("/stripe/webhook", data=signed,
                           headers={"Stripe-Signature": header,
                                    "Content-Type": "application/json"})

    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_event"
    assert row_counts() == before
    assert api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["status"] \
        == "awaiting_payment"


@pytest.mark.parametrize(("status", "method"), [("refunded", "cash"), ("paid", "cheque")])
def test_the_database_refuses_a_sale_status_or_method_outside_the_sets(app, status, method):
    with write_transaction() as session:
        location_id = ledger.default_location(session).id
    with pytest.raises(IntegrityError, match="(?i)check"), write_transaction() as session:
        session.add(Sale(location_id=location_id, status=status, payment_method=method,
                         subtotal_cents=0, total_cents=0))
        session.flush()


@pytest.mark.parametrize("sale_part", ["99999999999999999999", "2147483648", "\u00b2"])
def test_a_demo_payment_page_for_an_impossible_sale_id_is_not_found(app, client, login_as,
                                                                    sale_part):
    login_as("front_desk")
    response = client.get(f"/demo-pay/demo_cs_{sale_part}_abc")
    assert response.status_code == 404


def test_a_flag_about_another_session_does_not_stop_reconciliation_settling_the_own_one(
        api, serum, standin, client, stripe_app):
    sale = sell(api, "card")
    foreign = a_foreign_session(standin, sale, amount=6500)
    standin.pay(foreign)
    assert deliver(client, standin, foreign, "checkout.session.completed").json["result"] \
        == "flagged"
    standin.pay(sale["checkout_session_id"])  # and that event is lost

    result = stripe_app.test_cli_runner().invoke(args=["pos", "reconcile-stripe"])

    assert result.exit_code == 0 and "paid=1" in result.output, result.output
    paid = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert (paid["status"], paid["payments"][0]["status"]) == ("paid", "succeeded")
    assert foreign in paid["flag"]  # still there: the other payment is to be refunded
    assert stock_of("SERUM") == (2, 0)


def test_a_sale_whose_own_session_paid_the_wrong_amount_is_left_to_a_manager(
        api, serum, standin, client, stripe_app):
    sale = sell(api, "card")
    standin.pay(sale["checkout_session_id"], amount=100)
    assert deliver(client, standin, sale["checkout_session_id"],
                   "checkout.session.completed").json["result"] == "flagged"

    result = stripe_app.test_cli_runner().invoke(args=["pos", "reconcile-stripe"])

    assert "checked=0" in result.output, result.output
    assert len(db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "sale.flag")).all()) == 1

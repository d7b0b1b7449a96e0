"""Card sales through Stripe Checkout (the real SDK against the local stand-in) and the
signed webhook that settles them."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pos.extensions import db
from pos.models import AuditEntry, OutboxMessage, PackagePurchase, Refund, Sale, StockMovement
from pos.services import clock, sales
from tests.factories import make_item
from tests.fixtures_payments import (
    WEBHOOK_SECRET,
    deliver,
    make_client,
    make_package,
    row_counts,
    stock_of,
    stripe_config,
)
from tests.worker_process import run_once, worker_env

CLIENT_EMAIL = "zoe.quintero@example.org"


@pytest.fixture
def shop(stripe_app):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, taxable=True,
              lots=[("S-1", 3, 200)])
    make_package("FACE3", sessions=3, price_cents=45000)
    return make_client("Zoe", "Quintero", CLIENT_EMAIL)


def card_sale(api, client_id=None, quantity=1, package=True):  # type: ignore[no-untyped-def]
    lines = [{"sku": "SERUM", "quantity": quantity}]
    if package:
        lines.insert(0, {"package_code": "FACE3", "quantity": 1})
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "payment": "card", "lines": lines})
    assert response.status_code == 201, response.json
    return response.json


def test_a_card_sale_creates_a_checkout_in_cents_with_the_sale_id_and_no_personal_data(
        api, shop, standin):
    sale = card_sale(api, shop)

    assert sale["status"] == "awaiting_payment"
    assert sale["checkout_session_id"].startswith("cs_test_")
    assert sale["checkout_url"] == f"{standin.api_base}/pay/{sale['checkout_session_id']}"
    assert stock_of("SERUM") == (3, 1)
    (sent,) = standin.requests_to("POST", "/v1/checkout/sessions")
    amounts = [int(item["price_data"]["unit_amount"]) * int(item["quantity"])
               for item in sent.params["line_items"]]
    assert sum(amounts) == sale["total_cents"] == 45000 + 6500 + 520
    assert sent.form["client_reference_id"] == str(sale["id"])
    assert sent.form["metadata[sale_id]"] == str(sale["id"])
    assert sent.form["mode"] == "payment" and sent.form["expires_at"]
    assert sent.headers["idempotency-key"] == f"sale-{sale['id']}-checkout"
    everything_sent = json.dumps([r.form for r in standin.requests]).lower()
    for private in ("zoe", "quintero", CLIENT_EMAIL, "555"):
        assert private not in everything_sent


def test_the_completed_event_pays_the_sale_once(api, shop, standin, client):
    sale = card_sale(api, shop)
    standin.pay(sale["checkout_session_id"])
    payload, header = standin.event(sale["checkout_session_id"], "checkout.session.completed")

    for _ in range(3):
        response = client.post("/stripe/webhook", data=payload,
                               headers={"Stripe-Signature": header,
                                        "Content-Type": "application/json"})
        assert response.status_code == 200
    # A second, different event for the same payment is a no-op too.
    assert deliver(client, standin, sale["checkout_session_id"],
                   "checkout.session.async_payment_succeeded").json["result"] == "already_paid"

    paid = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert paid["status"] == "paid" and paid["card_last4"] == "4242"
    assert paid["receipt_number"] == 1
    assert stock_of("SERUM") == (2, 0)
    assert len(db.session.scalars(select(StockMovement).where(
        StockMovement.reference == f"sale:{sale['id']}")).all()) == 1
    (purchase,) = db.session.scalars(select(PackagePurchase)).all()
    assert purchase.sessions_left == 3
    (mail,) = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "receipt")).all()
    assert mail.recipients == CLIENT_EMAIL and "Visa ending 4242" in mail.body
    assert "Client: Zoe Quintero" in mail.body and "sessions left: 3" in mail.body


def test_an_expired_checkout_releases_the_held_stock(api, shop, standin, client):
    sale = card_sale(api, shop, quantity=3)
    assert stock_of("SERUM") == (3, 3)
    standin.expire_session(sale["checkout_session_id"])
    response = deliver(client, standin, sale["checkout_session_id"], "checkout.session.expired")
    assert response.status_code == 200 and response.json["result"] == "expired"
    assert api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["status"] == "expired"
    assert stock_of("SERUM") == (3, 0)
    # A late "completed" cannot undo it: the expired session was never paid.
    assert deliver(client, standin, sale["checkout_session_id"],
                   "checkout.session.completed").json["result"] == "not_paid"


def test_a_failed_async_payment_fails_the_sale(api, shop, standin, client):
    sale = card_sale(api, shop)
    deliver(client, standin, sale["checkout_session_id"], "checkout.session.async_payment_failed")
    assert api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["status"] == "failed"
    assert stock_of("SERUM") == (3, 0)


def test_a_payment_after_the_hold_expired_is_sold_if_the_stock_is_still_there(
        api, shop, standin, client):
    sale = card_sale(api, shop)
    standin.pay(sale["checkout_session_id"])
    sales.expire_checkout_sale(sale["id"])  # the expiry was processed first (out of order)
    assert deliver(client, standin, sale["checkout_session_id"],
                   "checkout.session.completed").json["result"] == "paid"
    assert api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["status"] == "paid"
    assert stock_of("SERUM") == (2, 0)


def test_a_payment_after_the_hold_expired_and_the_stock_was_sold_is_refunded_and_flagged(
        api, shop, standin, client):
    sale = card_sale(api, shop, quantity=3)
    standin.pay(sale["checkout_session_id"])
    sales.expire_checkout_sale(sale["id"])
    cash = api("front_desk").post("/api/v1/sales", json={
        "payment": "cash", "lines": [{"sku": "SERUM", "quantity": 2}]})
    assert cash.status_code == 201

    response = deliver(client, standin, sale["checkout_session_id"], "checkout.session.completed")
    assert response.status_code == 200 and response.json["result"] == "refunded"

    late = db.session.get(Sale, sale["id"])
    db.session.refresh(late)
    assert late.status == "expired" and "paid after hold expired" in late.flag
    (refund,) = db.session.scalars(select(Refund)).all()
    assert (refund.status, refund.reason, refund.amount_cents) == \
        ("succeeded", "paid after hold expired", sale["total_cents"])
    (at_stripe,) = standin.refunds.values()
    assert refund.gateway_refund_id == at_stripe["id"]
    assert at_stripe["amount"] == sale["total_cents"]
    assert stock_of("SERUM") == (1, 0)
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "sale.flag"))


def test_a_paid_amount_that_differs_from_the_total_is_flagged_not_paid(
        api, shop, standin, client):
    sale = card_sale(api, shop)
    standin.pay(sale["checkout_session_id"], amount=100)
    response = deliver(client, standin, sale["checkout_session_id"], "checkout.session.completed")
    assert response.status_code == 200 and response.json["result"] == "flagged"
    flagged = api("front_desk").get(f"/api/v1/sales/{sale['id']}").json
    assert flagged["status"] == "awaiting_payment"
    assert flagged["flag"].startswith("amount mismatch")
    assert flagged["receipt_number"] is None
    assert stock_of("SERUM") == (3, 1)


def test_events_with_a_bad_signature_are_refused_and_change_nothing(api, shop, standin, client):
    sale = card_sale(api, shop)
    standin.pay(sale["checkout_session_id"])
    sid = sale["checkout_session_id"]
    before = row_counts()
    payload, header = standin.event(sid, "checkout.session.completed")
    tampered = payload.replace(b'"status": "complete"', b'"status": "completf"')
    attempts = [
        (payload, None),
        (payload, "t=1,v1=deadbeef"),
        (tampered, header),
        standin.event(sid, "checkout.session.completed", secret="whsec_forged"),
        standin.event(sid, "checkout.session.completed", timestamp=int(time.time()) - 301),
        (b"not json", header),
    ]
    for body, signature in attempts:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        response = client.post("/stripe/webhook", data=body, headers=headers)
        assert response.status_code == 400
        assert response.json["error"]["code"] == "invalid_signature"
    assert row_counts() == before
    assert api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["status"] == \
        "awaiting_payment"


def test_an_event_type_the_app_does_not_handle_is_acknowledged_and_ignored(
        api, shop, standin, client):
    sale = card_sale(api, shop)
    response = deliver(client, standin, sale["checkout_session_id"], "customer.created")
    assert response.status_code == 200 and response.json["result"] == "ignored"


def test_when_stripe_is_down_the_sale_is_cancelled_with_a_clear_503(api, shop, standin):
    standin.stop()
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": shop, "payment": "card", "lines": [{"sku": "SERUM", "quantity": 2}]})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "payment_gateway_unavailable"
    assert "try again" in response.json["error"]["message"].lower()
    (sale,) = db.session.scalars(select(Sale)).all()
    assert sale.status == "failed"
    assert stock_of("SERUM") == (3, 0)


def test_the_sweep_expires_checkouts_whose_event_never_came(api, shop, standin, stripe_app):
    sale = card_sale(api, shop)
    paid = card_sale(api, shop, package=False)
    standin.pay(paid["checkout_session_id"])
    with db.engine.begin() as conn:
        conn.execute(update(Sale).values(expires_at=clock.now() - timedelta(minutes=10)))
    db.session.rollback()

    result = stripe_app.test_cli_runner().invoke(args=["pos", "sweep-checkouts"])

    assert result.exit_code == 0, result.output
    assert "expired=1" in result.output and "paid=1" in result.output
    assert standin.sessions[sale["checkout_session_id"]]["status"] == "expired"
    assert db.session.get(Sale, sale["id"]).status == "expired"
    assert db.session.get(Sale, paid["id"]).status == "paid"
    assert stock_of("SERUM") == (2, 0)


def test_the_worker_process_sweeps_an_abandoned_checkout_by_itself(
        api, shop, standin, stripe_app, tmp_path):
    sale = card_sale(api, shop)
    with db.engine.begin() as conn:
        conn.execute(update(Sale).values(expires_at=clock.now() - timedelta(minutes=10)))
    db.session.rollback()
    assert stock_of("SERUM") == (3, 1)

    # The real `pos worker` process, one round, against this test's database and Stripe.
    finished = run_once(worker_env(
        stripe_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, **stripe_config(standin)))

    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "checkouts_expired=1" in finished.stdout
    db.session.rollback()
    assert db.session.get(Sale, sale["id"]).status == "expired"
    assert standin.sessions[sale["checkout_session_id"]]["status"] == "expired"
    assert stock_of("SERUM") == (3, 0)


def test_voiding_an_unpaid_card_sale_ends_its_checkout(api, shop, standin):
    sale = card_sale(api, shop)
    voided = api("manager").post(f"/api/v1/sales/{sale['id']}/void")
    assert voided.status_code == 200 and voided.json["status"] == "void"
    assert standin.sessions[sale["checkout_session_id"]]["status"] == "expired"
    assert stock_of("SERUM") == (3, 0)
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "sale.void"))


def test_the_webhook_is_refused_in_demo_mode(app, client):
    app.config["STRIPE_SECRET_KEY"] = None
    response = client.post("/stripe/webhook", data=b"{}",
                           headers={"Stripe-Signature": f"t=1,v1={WEBHOOK_SECRET}"})
    assert response.status_code == 400


def test_an_expired_event_arriving_after_the_payment_leaves_the_sale_paid(
        api, shop, standin, client):
    sale = card_sale(api, shop)
    standin.pay(sale["checkout_session_id"])
    deliver(client, standin, sale["checkout_session_id"], "checkout.session.completed")
    late = deliver(client, standin, sale["checkout_session_id"], "checkout.session.expired")
    assert late.status_code == 200 and late.json["result"] == "already_paid"
    assert api("front_desk").get(f"/api/v1/sales/{sale['id']}").json["status"] == "paid"
    assert stock_of("SERUM") == (2, 0)

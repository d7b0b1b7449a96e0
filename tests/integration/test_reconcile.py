"""`flask pos reconcile-stripe`: a payment whose webhook never arrived is settled, once."""
from __future__ import annotations

from sqlalchemy import select

from pos.extensions import db
from pos.models import OutboxMessage, Sale, StockMovement
from tests.factories import make_item
from tests.fixtures_payments import make_client, stock_of


def test_a_sale_paid_while_the_webhook_was_unreachable_is_settled_once(
        stripe_app, api, standin):
    make_item("SERUM", price_cents=6500, lots=[("S-1", 5, 200)])
    client_id = make_client()
    desk = api("front_desk")
    paid = desk.post("/api/v1/sales", json={
        "client_id": client_id, "payment": "card",
        "lines": [{"sku": "SERUM", "quantity": 2}]}).json
    still_open = desk.post("/api/v1/sales", json={
        "payment": "card", "lines": [{"sku": "SERUM", "quantity": 1}]}).json
    standin.pay(paid["checkout_session_id"])  # no webhook_url: the event is lost
    assert stock_of("SERUM") == (5, 3)

    runner = stripe_app.test_cli_runner()
    first = runner.invoke(args=["pos", "reconcile-stripe"])
    assert first.exit_code == 0, first.output
    assert "checked=2" in first.output and "paid=1" in first.output and "open=1" in first.output

    sale = db.session.get(Sale, paid["id"])
    assert (sale.status, sale.receipt_number, sale.card_last4) == ("paid", 1, "4242")
    assert db.session.get(Sale, still_open["id"]).status == "awaiting_payment"
    assert stock_of("SERUM") == (3, 1)

    again = runner.invoke(args=["pos", "reconcile-stripe", "--since", "2020-01-01"])
    assert again.exit_code == 0 and "paid=0" in again.output
    assert stock_of("SERUM") == (3, 1)
    assert len(db.session.scalars(select(StockMovement).where(
        StockMovement.reference == f"sale:{paid['id']}")).all()) == 1
    assert len(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.topic == "receipt")).all()) == 1


def test_reconcile_refuses_a_date_that_is_not_iso(stripe_app):
    result = stripe_app.test_cli_runner().invoke(args=["pos", "reconcile-stripe", "--since",
                                                       "yesterday"])
    assert result.exit_code != 0 and "ISO date" in result.output

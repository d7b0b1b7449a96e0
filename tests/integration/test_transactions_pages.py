"""The Transactions page, the sale page's actions (cancel, take cash instead, email the
receipt) and the receipt's contents, through the test client with CSRF on."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pos.extensions import db
from pos.models import OutboxMessage, Sale
from pos.services import clinic
from pos.services.transaction import write_transaction
from tests.factories import make_item
from tests.fixtures_payments import deliver, make_client, make_package, stock_of


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("SERUM", name="HA serum 30 ml", price_cents=6500, taxable=True,
              lots=[("S-1", 20, 200)])
    make_package("FACE3", sessions=3, price_cents=45000, name="Face series of 3")
    return {"ana": make_client("Ana", "Lopez", "ana.lopez@example.org"),
            "bea": make_client("Bea", "Moreno", None)}


def sell(api, client_id, payment="cash", package=False, quantity=1):  # type: ignore[no-untyped-def]
    lines = [{"sku": "SERUM", "quantity": quantity}]
    if package:
        lines.append({"package_code": "FACE3", "quantity": 1})
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "payment": payment, "lines": lines})
    assert response.status_code == 201, response.json
    return response.json


def form_token(page: str, prefix: str) -> str:
    match = re.search(rf'id="{prefix}-csrf_token" name="{prefix}-csrf_token" type="hidden" '
                      r'value="([^"]+)"', page) or re.search(
        rf'name="{prefix}-csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no {prefix} form on the page"
    return match.group(1)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- the list ------------------------------------------------------------------------------

def test_the_transactions_page_lists_searches_and_pages_the_sales(api, shop, client,
                                                                  login_as):
    ana = [sell(api, shop["ana"]) for _ in range(3)]
    bea = sell(api, shop["bea"])
    login_as("front_desk")

    page = client.get("/transactions").get_data(as_text=True)
    rows = re.findall(r'<tr data-sale="(\d+)"', page)
    assert rows == [str(bea["id"])] + [str(s["id"]) for s in reversed(ana)]
    assert "4 sales" in page

    found = client.get("/transactions?q=moreno").get_data(as_text=True)
    assert re.findall(r'<tr data-sale="(\d+)"', found) == [str(bea["id"])]
    by_number = client.get(f"/transactions?q={ana[1]['receipt_number']}").get_data(
        as_text=True)
    assert re.findall(r'<tr data-sale="(\d+)"', by_number) == [str(ana[1]["id"])]

    first = client.get("/transactions?per_page=3").get_data(as_text=True)
    assert "page 1 of 2" in first
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    assert re.findall(r'<tr data-sale="(\d+)"', second) == [str(ana[0]["id"])]

    bad = client.get("/transactions?from=someday")
    assert bad.status_code == 422 and 'id="filter-error"' in bad.get_data(as_text=True)


def test_the_list_and_the_sale_page_show_the_refund_status(api, shop, client, login_as):
    sale = sell(api, shop["ana"], quantity=2)
    api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
        "reason": "damaged box"})
    login_as("front_desk")
    listing = client.get("/transactions").get_data(as_text=True)
    assert "Refunded: partial" in listing
    page = client.get(f"/sales/{sale['id']}").get_data(as_text=True)
    assert 'id="refund-status"' in page and "Refunded: partial" in page
    assert "Partly refunded" in page


# -- the waiting page ----------------------------------------------------------------------

def test_cancel_on_the_waiting_page_releases_the_hold(api, shop, client, login_as):
    sale = sell(api, shop["ana"], payment="card", quantity=2)
    assert stock_of("SERUM") == (20, 2)
    login_as("front_desk")
    page = client.get(f"/sales/{sale['id']}").get_data(as_text=True)
    assert "Take cash instead" in page

    done = client.post(f"/sales/{sale['id']}/cancel",
                       data={"cancel-csrf_token": form_token(page, "cancel")})

    assert done.status_code == 302
    assert stock_of("SERUM") == (20, 0)
    after = client.get(f"/sales/{sale['id']}").get_data(as_text=True)
    assert "Cancelled" in after and "Take cash instead" not in after
    # Without the form's token nothing happens.
    other = sell(api, shop["ana"], payment="card")
    refused = client.post(f"/sales/{other['id']}/cancel", data={})
    assert refused.status_code == 400
    assert db.session.get(Sale, other["id"]).status == "awaiting_payment"


def test_take_cash_instead_cancels_the_card_checkout_and_sells_the_cart_in_cash(
        api, shop, client, login_as):
    card = sell(api, shop["ana"], payment="card", package=True, quantity=2)
    login_as("front_desk")
    page = client.get(f"/sales/{card['id']}").get_data(as_text=True)

    done = client.post(f"/sales/{card['id']}/take-cash", data={
        "cash-csrf_token": form_token(page, "cash"), "cash-cash_tendered": "700"})

    assert done.status_code == 302
    cash_id = int(done.headers["Location"].rsplit("/", 1)[1])
    db.session.rollback()
    cash, cancelled = db.session.get(Sale, cash_id), db.session.get(Sale, card["id"])
    assert cancelled.status == "cancelled"
    assert (cash.status, cash.payment_method, cash.client_id) == ("paid", "cash", shop["ana"])
    assert cash.total_cents == card["total_cents"]
    assert cash.cash_tendered_cents == 70000
    assert [(line.name, line.quantity) for line in cash.lines] == [
        (line["name"], line["quantity"]) for line in card["lines"]]
    assert stock_of("SERUM") == (18, 0)
    # The second click of a double click sells nothing more.
    again = client.post(f"/sales/{card['id']}/take-cash", data={
        "cash-csrf_token": form_token(page, "cash")})
    assert again.status_code == 409
    assert stock_of("SERUM") == (18, 0)


# -- receipts ------------------------------------------------------------------------------

def test_the_receipt_shows_the_clinic_cashier_client_sessions_card_and_refund(
        api, shop, stripe_app, standin, client, login_as, users):
    with write_transaction() as session:
        clinic.update_clinic_settings(session, {
            "clinic_name": "Harbor Skin Studio", "address": "12 Pier Road, Portland ME",
            "phone": "(207) 555-0142", "tax_id": "EIN 12-3456789"}, None)
    sale = sell(api, shop["ana"], payment="card", package=True, quantity=2)
    standin.pay(sale["checkout_session_id"])
    deliver(client, standin, sale["checkout_session_id"], "checkout.session.completed")
    serum_line = next(line for line in sale["lines"] if line.get("sku") == "SERUM")
    refund = api("manager").post(f"/api/v1/sales/{sale['id']}/refunds", json={
        "lines": [{"line_id": serum_line["id"], "quantity": 1}], "restock": True,
        "reason": "leaking cap"})
    assert refund.status_code == 201, refund.json
    login_as("front_desk")

    receipt = text_of(client.get(f"/sales/{sale['id']}/receipt").get_data(as_text=True))

    assert "Harbor Skin Studio" in receipt and "12 Pier Road, Portland ME" in receipt
    assert "(207) 555-0142" in receipt and "Tax id: EIN 12-3456789" in receipt
    assert f"Cashier: {users.get('front_desk').name}" in receipt
    assert "Client: Ana Lopez" in receipt
    assert "Sessions left: 3" in receipt
    assert "Visa ending 4242" in receipt
    assert f"-${refund.json['amount_cents'] / 100:,.2f}" in receipt
    assert "leaking cap" in receipt and "Refunded partial" in receipt


def test_email_the_receipt_from_the_sale_page(api, shop, client, login_as):
    sale = sell(api, shop["ana"])
    login_as("front_desk")
    page = client.get(f"/sales/{sale['id']}").get_data(as_text=True)

    done = client.post(f"/sales/{sale['id']}/receipt-email",
                       data={"email-csrf_token": form_token(page, "email")})

    assert done.status_code == 302
    (message,) = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.dedupe_key.like(f"receipt:sale:{sale['id']}:again:%"))).all()
    assert message.recipients == "ana.lopez@example.org"
    # A client without an address: the page offers no button.
    no_email = sell(api, shop["bea"])
    assert 'id="email-receipt-form"' not in client.get(
        f"/sales/{no_email['id']}").get_data(as_text=True)

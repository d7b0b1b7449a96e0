"""The front desk through the Flask test client: checkout totals, cash and card sales,
receipts, refunds, and the drawer from opening float to its Z report."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import Client, DiscountCode, Drawer, ItemStock, PackagePurchase, Sale
from pos.services import catalog, clock
from pos.services.transaction import write_transaction
from tests.factories import make_item

SERUM_PRICE = 6500  # taxable retail, 8 % tax in the test config
SERIES_PRICE = 79500  # a service: not taxed


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("SERUM-1OZ", name="Pure HA serum 1 oz", price_cents=SERUM_PRICE,
              lots=[("S-1", 5, 200)])
    catalog.create_package(catalog.NewPackage(
        code="FACE-3", name="Face microneedling series of 3", area="face", sessions=3,
        price_cents=SERIES_PRICE, min_days_between=28, max_days_between=42, supplies=()),
        None)
    with write_transaction() as session:
        session.add(DiscountCode(code="WELCOME10", kind="percent", value=1000))
        session.add(DiscountCode(code="OLD5", kind="fixed", value=500,
                                 ends_on=clock.today() - timedelta(days=1)))
        client = Client(first_name="Ana", last_name="Lopez", email="ana@example.com")
        session.add(client)
        session.flush()
        return {"client_id": client.id}


def token(client, path: str = "/checkout") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on " + path
    return match.group(1)


def post_json(client, path: str, body):  # type: ignore[no-untyped-def]
    return client.post(path, json=body, headers={"X-CSRFToken": token(client)})


def on_hand(sku: str) -> int:
    from pos.models import Item

    return db.session.scalar(select(func.sum(ItemStock.on_hand)).join(
        Item, Item.id == ItemStock.item_id).where(Item.sku == sku))


SERIES_AND_SERUMS = [{"package_code": "FACE-3", "quantity": 1},
                     {"sku": "SERUM-1OZ", "quantity": 2}]


# -- pages and their guards -----------------------------------------------------------------

def test_the_desk_pages_need_a_signed_in_user(app, client):
    for path in ("/clients", "/checkout", "/drawers", "/sales/1"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_the_top_bar_has_checkout_clients_and_the_drawer_for_the_front_desk(app, client,
                                                                           login_as):
    login_as("front_desk")
    page = client.get("/checkout").get_data(as_text=True)
    for label, path in (("Checkout", "/checkout"), ("Clients", "/clients"),
                        ("Drawer", "/drawers")):
        assert f'href="{path}"' in page and label in page


def test_the_checkout_page_loads_its_script_and_no_inline_script(app, client, login_as):
    login_as("front_desk")
    response = client.get("/checkout")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/static/desk.js" in page
    assert "<script>" not in page and " style=" not in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# -- live totals ---------------------------------------------------------------------------

def test_the_quote_prices_the_cart_with_the_discount_once_and_tax_on_retail_only(
        shop, client, login_as):
    login_as("front_desk")
    response = post_json(client, "/desk/quote", {
        "client_id": shop["client_id"], "lines": SERIES_AND_SERUMS,
        "discount_code": "welcome10", "cash_tendered": "900"})
    assert response.status_code == 200
    quote = response.get_json()
    # 795.00 + 2 x 65.00 = 925.00; 10 % off = 92.50, spread 79.50 / 13.00;
    # tax 8 % of the serums' net 117.00 = 9.36; total 925.00 - 92.50 + 9.36.
    assert (quote["subtotal_cents"], quote["discount_cents"], quote["tax_cents"],
            quote["total_cents"]) == (92500, 9250, 936, 84186)
    assert (quote["subtotal"], quote["discount"], quote["tax"], quote["total"]) == \
        ("$925.00", "$92.50", "$9.36", "$841.86")
    assert quote["change_cents"] == 5814 and quote["change"] == "$58.14"
    assert [(line["key"], line["subtotal_cents"], line["tax_cents"])
            for line in quote["lines"]] == [("package:FACE-3", 79500, 0),
                                            ("sku:SERUM-1OZ", 13000, 936)]


def test_the_quote_changes_when_a_quantity_changes(shop, client, login_as):
    login_as("front_desk")
    one = post_json(client, "/desk/quote", {"lines": [{"sku": "SERUM-1OZ", "quantity": 1}]})
    three = post_json(client, "/desk/quote", {"lines": [{"sku": "SERUM-1OZ", "quantity": "3"}]})
    assert one.get_json()["total_cents"] == 7020
    assert three.get_json()["total_cents"] == 21060


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"lines": [{"sku": "NOPE", "quantity": 1}]}, 422, "unknown_item"),
    ({"lines": [{"sku": "SERUM-1OZ", "quantity": 0}]}, 422, "validation_error"),
    ({"lines": [{"sku": "SERUM-1OZ", "quantity": -1}]}, 422, "validation_error"),
    ({"lines": [{"sku": "SERUM-1OZ", "quantity": 1.5}]}, 422, "validation_error"),
    ({"lines": []}, 422, "validation_error"),
    ({"lines": "SERUM"}, 422, "validation_error"),
    ({"lines": [{"sku": "SERUM-1OZ", "quantity": 1}], "discount_code": "OLD5"}, 422,
     "discount_invalid"),
    ({"lines": [{"sku": "SERUM-1OZ", "quantity": 1}], "cash_tendered": "12.999"}, 422,
     "validation_error"),
    ([1, 2], 422, "validation_error"),
])
def test_a_bad_cart_gets_a_json_error_the_desk_can_show(shop, client, login_as, body, status,
                                                        code):
    login_as("front_desk")
    response = post_json(client, "/desk/quote", body)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_the_quote_refuses_a_request_without_the_csrf_header(shop, client, login_as):
    login_as("front_desk")
    response = client.post("/desk/quote", json={"lines": SERIES_AND_SERUMS})
    assert response.status_code == 400


def test_the_catalog_lists_retail_items_and_packages_but_not_supplies(shop, client, login_as):
    make_item("CART-36", kind="supply", price_cents=0)
    login_as("front_desk")
    products = client.get("/desk/catalog.json").get_json()
    assert {p["key"] for p in products} == {"sku:SERUM-1OZ", "package:FACE-3"}
    serum = next(p for p in products if p["key"] == "sku:SERUM-1OZ")
    assert serum["available"] == 5 and serum["price"] == "$65.00"


# -- cash ------------------------------------------------------------------------------------

def test_a_cash_sale_is_paid_at_once_and_shows_the_change_due(shop, client, login_as):
    login_as("front_desk")
    response = post_json(client, "/desk/sales", {
        "client_id": shop["client_id"], "lines": [{"sku": "SERUM-1OZ", "quantity": 1}],
        "payment": "cash", "cash_tendered": "$100"})
    assert response.status_code == 201
    created = response.get_json()
    assert created["status"] == "paid"
    page = client.get(created["url"]).get_data(as_text=True)
    assert "Paid" in page
    assert re.search(r'id="change-due">\$29\.80<', page)
    assert on_hand("SERUM-1OZ") == 4


def test_cash_tendered_below_the_total_sells_nothing(shop, client, login_as):
    login_as("front_desk")
    response = post_json(client, "/desk/sales", {
        "lines": [{"sku": "SERUM-1OZ", "quantity": 1}], "payment": "cash",
        "cash_tendered": "50"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Sale.id))) == 0
    assert on_hand("SERUM-1OZ") == 5


def test_a_package_sold_for_cash_gives_the_client_its_sessions(shop, client, login_as):
    login_as("front_desk")
    post_json(client, "/desk/sales", {"client_id": shop["client_id"],
                                      "lines": [{"package_code": "FACE-3", "quantity": 1}],
                                      "payment": "cash"})
    purchase = db.session.scalar(select(PackagePurchase))
    assert (purchase.client_id, purchase.sessions_left) == (shop["client_id"], 3)
    page = client.get(f"/clients/{shop['client_id']}").get_data(as_text=True)
    assert "Face microneedling series of 3" in page
    assert re.search(r'class="num sessions-left">3<', page)
    # Treatments are clinical: the front desk's client page has no link to them.
    assert f'href="/clients/{shop["client_id"]}/treatments"' not in page


def test_the_receipt_shows_clinic_number_lines_tax_total_and_payment(shop, app, client,
                                                                    login_as):
    login_as("front_desk")
    sale_id = post_json(client, "/desk/sales", {
        "client_id": shop["client_id"], "lines": SERIES_AND_SERUMS, "payment": "cash",
        "discount_code": "WELCOME10", "cash_tendered": "900"}).get_json()["id"]
    sale = db.session.get(Sale, sale_id)
    page = client.get(f"/sales/{sale_id}/receipt").get_data(as_text=True)
    assert app.config["CLINIC_NAME"] in page
    assert f"#{sale.receipt_number}" in page
    assert "Face microneedling series of 3" in page and "Pure HA serum 1 oz" in page
    assert re.search(r'id="receipt-discount">-\$92\.50<', page)
    assert re.search(r'id="receipt-tax">\$9\.36<', page)
    assert re.search(r'id="receipt-total">\$841\.86<', page)
    assert re.search(r'id="receipt-method">Cash<', page)
    assert clock.clinic_date(sale.paid_at).isoformat() in page
    assert "DEMO" not in page.split('id="receipt"')[1]


def test_an_unpaid_or_unknown_sale_has_no_receipt(shop, client, login_as):
    login_as("front_desk")
    assert client.get("/sales/999/receipt").status_code == 404
    assert client.get("/sales/" + "9" * 40).status_code == 404
    status = client.get("/desk/sales/999/status.json")
    assert status.status_code == 404 and status.get_json()["error"]["code"] == "not_found"


# -- card (the demo gateway: no Stripe keys in the test config) -------------------------------

def test_a_card_sale_shows_the_payment_link_and_qr_code_and_turns_paid(shop, client,
                                                                      login_as):
    login_as("front_desk")
    created = post_json(client, "/desk/sales", {
        "client_id": shop["client_id"], "lines": SERIES_AND_SERUMS,
        "payment": "card"}).get_json()
    assert created["status"] == "awaiting_payment"
    sale = db.session.get(Sale, created["id"])
    page = client.get(created["url"]).get_data(as_text=True)
    assert "Awaiting payment" in page
    assert f'id="checkout-link" href="{sale.checkout_url}"' in page
    assert "/demo-pay/" in sale.checkout_url
    assert '<svg width="' in page and 'class="qr' in page
    assert 'id="open-on-tablet"' in page
    status_url = f"/desk/sales/{sale.id}/status.json"
    assert client.get(status_url).get_json()["status"] == "awaiting_payment"

    session_id = sale.checkout_session_id
    approve = client.post(f"/demo-pay/{session_id}", data={
        "decision": "approve", "csrf_token": token(client, f"/demo-pay/{session_id}")})
    assert approve.status_code == 302
    status = client.get(status_url).get_json()
    assert status["status"] == "paid" and status["label"] == "Paid"
    assert status["receipt_url"] == f"/sales/{sale.id}/receipt"
    receipt = client.get(status["receipt_url"]).get_data(as_text=True)
    assert "DEMO - no money moves" in receipt.split('id="receipt"')[1]
    assert re.search(r'id="receipt-method">Card ending 4242<', receipt)
    assert on_hand("SERUM-1OZ") == 3


# -- refunds -----------------------------------------------------------------------------------

def cash_sale(client, lines, tendered=None) -> int:  # type: ignore[no-untyped-def]
    response = post_json(client, "/desk/sales", {"lines": lines, "payment": "cash",
                                                 "cash_tendered": tendered})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def refund_form(client, sale_id: int, quantities: dict[int, int], **fields):  # type: ignore[no-untyped-def]
    data = {"csrf_token": token(client, f"/sales/{sale_id}"), "reason": "changed mind",
            "restock": "y", **{f"qty-{k}": str(v) for k, v in quantities.items()}, **fields}
    return client.post(f"/sales/{sale_id}/refunds", data=data)


def test_a_manager_refunds_a_line_from_the_sale_page_and_it_goes_back_to_stock(
        shop, client, login_as):
    login_as("manager")
    sale_id = cash_sale(client, [{"sku": "SERUM-1OZ", "quantity": 2}])
    line_id = db.session.get(Sale, sale_id).lines[0].id
    assert 'id="refund-title"' in client.get(f"/sales/{sale_id}").get_data(as_text=True)
    response = refund_form(client, sale_id, {line_id: 1})
    assert response.status_code == 302
    page = client.get(f"/sales/{sale_id}").get_data(as_text=True)
    assert "Refunded $70.20" in page
    assert on_hand("SERUM-1OZ") == 4


def test_a_refund_larger_than_the_sale_is_refused_on_the_page(shop, client, login_as):
    login_as("manager")
    sale_id = cash_sale(client, [{"sku": "SERUM-1OZ", "quantity": 1}])
    line_id = db.session.get(Sale, sale_id).lines[0].id
    response = refund_form(client, sale_id, {line_id: 2})
    assert response.status_code == 422
    assert 'id="refund-error"' in response.get_data(as_text=True)
    assert db.session.get(Sale, sale_id).lines[0].refunded_quantity == 0


def test_the_front_desk_sees_no_refund_form_and_cannot_post_one(shop, client, login_as):
    login_as("front_desk")
    sale_id = cash_sale(client, [{"sku": "SERUM-1OZ", "quantity": 1}])
    line_id = db.session.get(Sale, sale_id).lines[0].id
    assert 'id="refund-title"' not in client.get(f"/sales/{sale_id}").get_data(as_text=True)
    assert refund_form(client, sale_id, {line_id: 1}).status_code == 403


# -- the drawer ----------------------------------------------------------------------------------

def drawer_post(client, path: str, **fields):  # type: ignore[no-untyped-def]
    csrf = token(client, "/drawers")
    return client.post(path, data={"open-csrf_token": csrf, "close-csrf_token": csrf,
                                   "move-csrf_token": csrf, "reopen-csrf_token": csrf,
                                   **fields})


def current_drawer() -> Drawer:
    drawer = db.session.scalar(select(Drawer).where(Drawer.status == "open"))
    assert drawer is not None
    return drawer


def test_the_drawer_expects_float_plus_cash_sales_minus_refunds_plus_paid_in_minus_out(
        shop, client, login_as):
    login_as("manager")
    assert drawer_post(client, "/drawers/open",
                       **{"open-opening_float": "150.00"}).status_code == 302
    drawer_id = current_drawer().id
    first = cash_sale(client, [{"sku": "SERUM-1OZ", "quantity": 1}], "100")  # 70.20
    cash_sale(client, [{"sku": "SERUM-1OZ", "quantity": 2}])  # 140.40
    refund_form(client, first, {db.session.get(Sale, first).lines[0].id: 1})  # -70.20
    post_json(client, "/desk/sales", {"lines": [{"sku": "SERUM-1OZ", "quantity": 1}],
                                      "payment": "card"})  # unpaid card: not in the drawer
    assert drawer_post(client, f"/drawers/{drawer_id}/movements", **{
        "move-kind": "paid_in", "move-amount": "20", "move-note": "change from the bank"}
    ).status_code == 302
    assert drawer_post(client, f"/drawers/{drawer_id}/movements", **{
        "move-kind": "paid_out", "move-amount": "5.50", "move-note": "courier tip"}
    ).status_code == 302

    page = client.get("/drawers").get_data(as_text=True)
    assert re.search(r'id="opening-float">\$150\.00<', page)
    assert re.search(r'id="cash-sales">\$210\.60<', page)
    assert re.search(r'id="cash-refunds">\$70\.20<', page)
    assert re.search(r'id="paid-in">\$20\.00<', page)
    assert re.search(r'id="paid-out">\$5\.50<', page)
    assert re.search(r'id="expected-cash">\$304\.90<', page)

    response = drawer_post(client, f"/drawers/{drawer_id}/close",
                           **{"close-counted": "$302.90"})
    assert response.status_code == 302
    report = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Z report" in report
    assert re.search(r'id="counted-cash">\$302\.90<', report)
    assert re.search(r'id="over-short">-\$2\.00 \(short\)<', report)
    assert "courier tip" in report
    drawer = db.session.get(Drawer, drawer_id)
    assert (drawer.expected_cents, drawer.counted_cents, drawer.over_short_cents) == \
        (30490, 30290, -200)
    assert "NO OPEN DRAWER" in client.get("/drawers").get_data(as_text=True)


def test_closing_the_drawer_never_stops_sales_or_refunds(shop, client, login_as):
    login_as("manager")
    sale_id = cash_sale(client, [{"sku": "SERUM-1OZ", "quantity": 1}])
    first = current_drawer()
    assert first.opening_float_cents == 0  # opened by the sale
    assert drawer_post(client, f"/drawers/{first.id}/close",
                       **{"close-counted": "70.20"}).status_code == 302
    assert cash_sale(client, [{"sku": "SERUM-1OZ", "quantity": 1}])
    refused = refund_form(client, sale_id, {db.session.get(Sale, sale_id).lines[0].id: 1})
    assert refused.status_code == 302
    second = current_drawer()
    assert second.id != first.id
    page = client.get("/drawers").get_data(as_text=True)
    assert re.search(r'id="cash-sales">\$70\.20<', page)
    assert re.search(r'id="cash-refunds">\$70\.20<', page)
    assert on_hand("SERUM-1OZ") == 4


def test_a_count_past_the_tolerance_needs_a_note_on_the_page(shop, client, login_as):
    login_as("front_desk")
    cash_sale(client, [{"sku": "SERUM-1OZ", "quantity": 1}])
    drawer_id = current_drawer().id
    response = drawer_post(client, f"/drawers/{drawer_id}/close", **{"close-counted": "60"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="close-note-error"' in page and "$10.20 short" in page
    assert current_drawer().id == drawer_id
    assert drawer_post(client, f"/drawers/{drawer_id}/close", **{
        "close-counted": "60", "close-note": "a 10 fell behind the till"}).status_code == 302
    assert db.session.get(Drawer, drawer_id).note == "a 10 fell behind the till"


def test_the_drawer_refuses_a_counted_amount_that_is_not_money(shop, client, login_as):
    login_as("front_desk")
    drawer_post(client, "/drawers/open", **{"open-opening_float": "0"})
    drawer_id = current_drawer().id
    for counted in ("-5", "12.345", "abc", "1e3"):
        response = drawer_post(client, f"/drawers/{drawer_id}/close",
                               **{"close-counted": counted})
        assert response.status_code == 422, counted
        assert 'id="close-counted-error"' in response.get_data(as_text=True)
    assert current_drawer().closed_at is None


def test_only_a_manager_sees_and_uses_reopen(shop, client, login_as):
    login_as("front_desk")
    drawer_post(client, "/drawers/open", **{"open-opening_float": "0"})
    drawer_id = current_drawer().id
    drawer_post(client, f"/drawers/{drawer_id}/close", **{"close-counted": "0"})
    assert "Reopen drawer" not in client.get("/drawers").get_data(as_text=True)
    assert drawer_post(client, f"/drawers/{drawer_id}/reopen").status_code == 403
    login_as("manager")
    assert f'aria-label="Reopen drawer {drawer_id}"' in client.get("/drawers").get_data(
        as_text=True)
    assert drawer_post(client, f"/drawers/{drawer_id}/reopen").status_code == 302
    assert current_drawer().id == drawer_id

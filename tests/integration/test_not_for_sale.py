"""A line whose price is 0 cannot be sold: 422 `not_for_sale` (the first-visit bundle
leaves stock only through a treatment)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from pos.extensions import db
from pos.models import Sale
from tests.factories import make_item
from tests.fixtures_payments import make_client, make_package, stock_of


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    make_item("FIRST-VISIT", kind="bundle", name="First-visit bundle", price_cents=0,
              lots=[("B-1", 10, 300)])
    make_item("SERUM", price_cents=6500, lots=[("S-1", 10, 300)])
    make_package("FREEBIE", sessions=1, price_cents=0)


@pytest.mark.parametrize("payment", ["cash", "card"])
def test_the_api_refuses_to_sell_a_line_priced_0(api, shop, payment):
    response = api("front_desk").post("/api/v1/sales", json={
        "payment": payment, "lines": [{"sku": "SERUM", "quantity": 1},
                                      {"sku": "FIRST-VISIT", "quantity": 1}]})
    assert response.status_code == 422
    error = response.json["error"]
    assert (error["code"], error["details"]) == ("not_for_sale", {"sku": "FIRST-VISIT"})
    assert stock_of("FIRST-VISIT") == (10, 0) and stock_of("SERUM") == (10, 0)
    assert db.session.scalar(select(func.count(Sale.id))) == 0


def test_a_package_priced_0_is_not_for_sale_either(api, shop):
    client_id = make_client()
    response = api("front_desk").post("/api/v1/sales", json={
        "client_id": client_id, "payment": "cash",
        "lines": [{"package_code": "FREEBIE", "quantity": 1}]})
    assert (response.status_code, response.json["error"]["code"]) == (422, "not_for_sale")
    assert response.json["error"]["details"] == {"package_code": "FREEBIE"}


def desk_post(client, path: str, body):  # type: ignore[no-untyped-def]
    page = client.get("/checkout").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    return client.post(path, json=body, headers={"X-CSRFToken": token.group(1)})


def test_the_desk_refuses_it_in_the_quote_and_the_sale(shop, client, login_as):
    login_as("front_desk")
    cart = [{"sku": "FIRST-VISIT", "quantity": 1}]
    quote = desk_post(client, "/desk/quote", {"lines": cart})
    assert (quote.status_code, quote.get_json()["error"]["code"]) == (422, "not_for_sale")
    sale = desk_post(client, "/desk/sales", {"lines": cart, "payment": "cash"})
    assert (sale.status_code, sale.get_json()["error"]["code"]) == (422, "not_for_sale")
    assert stock_of("FIRST-VISIT") == (10, 0)
    assert db.session.scalar(select(func.count(Sale.id))) == 0


def test_a_priced_bundle_still_sells(api, shop):
    make_item("TRAVEL-KIT", kind="bundle", price_cents=2500, lots=[("T-1", 3, 300)])
    response = api("front_desk").post("/api/v1/sales", json={
        "payment": "cash", "lines": [{"sku": "TRAVEL-KIT", "quantity": 1}]})
    assert response.status_code == 201 and response.json["status"] == "paid"

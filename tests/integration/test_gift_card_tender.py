"""The gift card tender (issue 14, part 5): a card sold for cash and redeemed through
POST /api/v1/sales in two visits, a third visit refused; a refund puts the card's share back
onto that card, a cancel of an awaiting split gives it back; the monthly report's roll-forward
exact after them. Both databases."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pos.domain.gift_cards import grouped
from pos.extensions import db
from pos.models import DrawerEntry, GiftCardEntry, Sale
from pos.services import clock, gift_cards
from tests.factories import make_item

MASK = 6000


@pytest.fixture
def shop(app, api):  # type: ignore[no-untyped-def]
    make_item("MASK", name="Sheet mask", price_cents=MASK, taxable=False,
              lots=[("M-1", 10, 100)])
    opened = api("front_desk").post("/api/v1/drawers", json={"opening_float_cents": 10000})
    assert opened.status_code == 201, opened.get_json()
    return app


def sell_card(api, cents: int = 10000) -> str:  # type: ignore[no-untyped-def]
    sold = api("front_desk").post("/api/v1/sales", json={
        "payment": "cash", "lines": [{"gift_card": {"amount_cents": cents}}]})
    assert sold.status_code == 201, sold.get_json()
    return sold.get_json()["lines"][0]["gift_card_code"]


def pay_mask(api, payments, status=201):  # type: ignore[no-untyped-def]
    response = api("front_desk").post("/api/v1/sales", json={
        "lines": [{"sku": "MASK", "quantity": 1}], "payments": payments})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def balance(code: str) -> int:
    db.session.rollback()
    return gift_cards.balance(db.session, code).balance_cents


def cash_in_drawer(api) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    figures = api("front_desk").get("/api/v1/drawers/current").get_json()
    return figures["cash_sales_cents"], figures["cash_refunds_cents"]


def month_report(api):  # type: ignore[no-untyped-def]
    today = clock.clinic_date(clock.now())
    return api("manager").get(f"/api/v1/reports/monthly?month={today:%Y-%m}").get_json()


def test_a_card_sold_for_cash_is_spent_in_two_visits_and_a_third_is_refused(api, shop):
    code = sell_card(api)
    assert balance(code) == 10000

    first = pay_mask(api, [{"method": "gift_card", "amount_cents": MASK, "code": code}])
    assert (first["status"], first["payment_method"], first["balance_cents"]) == \
        ("paid", "gift_card", 0)
    assert [(p["method"], p["status"]) for p in first["payments"]] == \
        [("gift_card", "succeeded")]
    assert balance(code) == 4000

    # The second visit types the code as printed, in lower case; the rest in cash.
    second = pay_mask(api, [
        {"method": "gift_card", "amount_cents": 4000, "code": grouped(code).lower()},
        {"method": "cash", "amount_cents": 2000, "cash_tendered_cents": 2000}])
    assert (second["status"], second["payment_method"]) == ("paid", "split")
    assert balance(code) == 0
    assert cash_in_drawer(api) == (10000 + 2000, 0)

    sales_before = db.session.scalar(select(func.count()).select_from(Sale))
    third = pay_mask(api, [{"method": "gift_card", "amount_cents": 100, "code": code},
                           {"method": "cash", "amount_cents": MASK - 100}], status=422)
    assert third["error"]["code"] == "gift_card_balance_too_low"
    assert third["error"]["details"]["balance_cents"] == 0
    # Nothing written: no sale, no cash, no entry on the card.
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Sale)) == sales_before
    assert cash_in_drawer(api) == (12000, 0)
    assert [e.kind for e in gift_cards.balance(db.session, code).history] == \
        ["issue", "redeem", "redeem"]

    report = month_report(api)
    assert report["gift_card_liability"] == {
        "opening_cents": 0, "sold_cents": 10000, "redeemed_cents": 10000,
        "refunded_cents": 0, "closing_cents": 0}
    assert report["gift_card_liability_cents"] == 0


def test_a_tender_with_a_bad_code_or_for_a_gift_card_is_refused_and_nothing_is_taken(
        api, shop):
    code = sell_card(api)
    unknown = pay_mask(api, [{"method": "gift_card", "amount_cents": MASK,
                              "code": "ABCD-2345-EFGH-6789"}], status=422)
    assert unknown["error"]["code"] == "unknown_gift_card"
    no_code = pay_mask(api, [{"method": "gift_card", "amount_cents": MASK}], status=422)
    assert no_code["error"]["code"] == "validation_error"
    code_on_cash = pay_mask(api, [{"method": "cash", "amount_cents": MASK, "code": code}],
                            status=422)
    assert code_on_cash["error"]["code"] == "validation_error"
    card_for_card = api("front_desk").post("/api/v1/sales", json={
        "lines": [{"gift_card": {"amount_cents": 2000}}],
        "payments": [{"method": "gift_card", "amount_cents": 2000, "code": code}]})
    assert card_for_card.status_code == 422, card_for_card.get_json()
    assert card_for_card.get_json()["error"]["code"] == "gift_card_pays_gift_card"
    assert balance(code) == 10000
    assert db.session.scalar(select(func.count()).select_from(GiftCardEntry)) == 1


def test_a_refund_puts_the_gift_card_share_back_onto_that_card(api, shop):
    code = sell_card(api)
    whole = pay_mask(api, [{"method": "gift_card", "amount_cents": MASK, "code": code}])
    split = pay_mask(api, [{"method": "gift_card", "amount_cents": 4000, "code": code},
                           {"method": "cash", "amount_cents": 2000}])
    assert balance(code) == 0
    manager = api("manager")
    for sale in (whole, split):
        refund = manager.post(f"/api/v1/sales/{sale['id']}/refunds", json={
            "lines": [{"line_id": sale["lines"][0]["id"], "quantity": 1}], "restock": True,
            "reason": "allergic"})
        assert refund.status_code == 201, refund.get_json()
        assert refund.get_json()["amount_cents"] == MASK
    # The card is whole again; only the split's cash share left the drawer.
    assert balance(code) == 10000
    assert cash_in_drawer(api) == (10000 + 2000, 2000)
    history = gift_cards.balance(db.session, code).history
    assert [(e.kind, e.amount_cents) for e in history] == [
        ("issue", 10000), ("redeem", -MASK), ("redeem", -4000), ("reverse", MASK),
        ("reverse", 4000)]
    report = month_report(api)
    assert report["gift_card_liability"] == {
        "opening_cents": 0, "sold_cents": 10000, "redeemed_cents": 0,
        "refunded_cents": 0, "closing_cents": 10000}


def test_cancelling_an_awaiting_split_gives_the_card_its_share_back(api, shop, stripe_app):
    code = sell_card(api)
    sale = pay_mask(api, [{"method": "gift_card", "amount_cents": 2500, "code": code},
                          {"method": "card", "amount_cents": MASK - 2500}])
    assert sale["status"] == "awaiting_payment"
    assert balance(code) == 7500
    cancelled = api("front_desk").post(f"/api/v1/sales/{sale['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"
    assert [p["status"] for p in cancelled.get_json()["payments"]][0] == "refunded"
    assert balance(code) == 10000
    assert db.session.scalar(select(func.count()).select_from(DrawerEntry).where(
        DrawerEntry.sale_id == sale["id"])) == 0
    report = month_report(api)
    assert report["gift_card_liability"]["redeemed_cents"] == 0
    assert report["gift_card_liability"]["closing_cents"] == 10000


# -- the desk ----------------------------------------------------------------------------

def test_the_sale_pages_add_payment_form_takes_a_gift_card_by_its_code(
        api, shop, client, login_as):
    from pos.services.sales import tenders
    from pos.services.sales.cart import CartLine
    from tests.fixtures_payments import csrf_token_of

    code = sell_card(api, 5000)
    sale_id = tenders.open_split_sale(
        client_id=None, lines=[CartLine(sku="MASK", package_code=None, quantity=1)],
        discount_code=None, user_id=None).id
    login_as("front_desk")
    page = client.get(f"/sales/{sale_id}").get_data(as_text=True)
    assert 'value="gift_card"' in page and "Gift card code" in page
    token = csrf_token_of(page)

    def add(**fields: str):  # type: ignore[no-untyped-def]
        return client.post(f"/sales/{sale_id}/payments", data={
            "tender-csrf_token": token, **{f"tender-{k}": v for k, v in fields.items()}})

    too_much = add(method="gift_card", amount="60.00", gift_code=grouped(code))
    assert too_much.status_code == 422
    assert "The gift card has only 5000 cents left." in too_much.get_data(as_text=True)
    unknown = add(method="gift_card", amount="10.00", gift_code="ABCD-2345-EFGH-6789")
    assert unknown.status_code == 422
    assert "No gift card has this code." in unknown.get_data(as_text=True)
    no_code = add(method="gift_card", amount="10.00")
    assert no_code.status_code == 422
    assert balance(code) == 5000

    assert add(method="gift_card", amount="50.00", gift_code=code.lower()).status_code == 302
    assert add(method="cash", amount="10.00").status_code == 302
    paid = api("front_desk").get(f"/api/v1/sales/{sale_id}").get_json()
    assert paid["status"] == "paid"
    assert [(p["method"], p["amount_cents"]) for p in paid["payments"]] == \
        [("gift_card", 5000), ("cash", 1000)]
    assert balance(code) == 0
    page = client.get(f"/sales/{sale_id}").get_data(as_text=True)
    assert "Gift card" in page


def test_the_checkout_sells_a_gift_card_as_a_cart_line_kept_priced_and_sold(
        api, shop, client, users):
    import html
    import json
    import re

    from tests.factories import signed_in

    signed_in(client, users.get("front_desk"))
    page = client.get("/checkout").get_data(as_text=True)
    assert 'id="gift-card-form"' in page and "Add gift card" in page
    assert 'for="gift-card-amount"' in page and 'for="gift-card-email"' in page
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    def send(method: str, path: str, body):  # type: ignore[no-untyped-def]
        return client.open(path, method=method, json=body, headers={"X-CSRFToken": token})

    lines = [{"sku": "MASK", "quantity": 1},
             {"gift_card": {"amount_cents": 5000, "recipient_email": "friend@example.com"}},
             {"gift_card": {"amount_cents": 2500}}]
    assert send("PUT", "/desk/cart", {"lines": lines}).status_code == 200
    page = client.get("/checkout").get_data(as_text=True)
    cart = json.loads(html.unescape(re.search(r"data-cart='([^']*)'", page).group(1)))  # type: ignore[union-attr]
    assert [(line["key"], line["quantity"]) for line in cart["lines"]] == \
        [("sku:MASK", 1), ("gift:1", 1), ("gift:2", 1)]
    assert cart["lines"][1]["gift_card"] == {"amount_cents": 5000,
                                             "recipient_email": "friend@example.com"}

    quote = send("POST", "/desk/quote", {"lines": lines}).get_json()
    assert [(q["key"], q["total_cents"], q["tax_cents"]) for q in quote["lines"]] == \
        [("sku:MASK", MASK, 0), ("gift:1", 5000, 0), ("gift:2", 2500, 0)]
    assert quote["total_cents"] == MASK + 7500

    sold = send("POST", "/desk/sales", {"lines": lines, "payment": "cash",
                                        "cash_tendered": "140.00"})
    assert sold.status_code == 201, sold.get_json()
    sale = api("front_desk").get(f"/api/v1/sales/{sold.get_json()['id']}").get_json()
    assert sale["status"] == "paid"
    codes = [line["gift_card_code"] for line in sale["lines"] if line.get("gift_card_code")]
    assert len(codes) == 2
    assert sorted(balance(code) for code in codes) == [2500, 5000]
    cart = json.loads(html.unescape(re.search(  # type: ignore[union-attr]
        r"data-cart='([^']*)'", client.get("/checkout").get_data(as_text=True)).group(1)))
    assert cart["lines"] == []
